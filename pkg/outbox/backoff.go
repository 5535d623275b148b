package outbox

import (
	"math/rand/v2"
	"time"
)

// Retry timing. A transient failure (a 5xx, a timeout) is usually over in
// seconds; a rate limit means "not so fast", so it starts slower. Either
// way the delay doubles per attempt up to an hour, which is about as long as
// a customer waiting for an order confirmation should wait between tries.
const (
	transientBase = 5 * time.Second
	rateLimitBase = 30 * time.Second
	maxDelay      = time.Hour
	// maxRetryAfter bounds a provider's hint, so a garbled header cannot
	// park a message for a year.
	maxRetryAfter = 24 * time.Hour
)

// Defaults for the Outbox's zero fields.
const (
	// DefaultMaxAttempts: with the delays above, 36 attempts span about a
	// day of transient failures (5 s, 10 s, … 43 min, then hourly; 20–26 h
	// with the jitter), so a Graph API outage of a day loses no order
	// confirmation. Past a day the customer's 24-hour window has usually
	// closed anyway, and the message goes out as its template. The cleanup
	// schedule's period adds to every delay.
	DefaultMaxAttempts = 36
	// DefaultMaxAge bounds the same from the other side: a provider that
	// keeps answering "retry after a day" (Retry-After is honoured up to
	// maxRetryAfter) would otherwise stretch 36 attempts over weeks.
	DefaultMaxAge = 48 * time.Hour
	// DefaultLease outlasts one send (DefaultSendTimeout) plus recording
	// its result several times over, so a live sender never loses its
	// lease; a dead one holds the row for at most this long.
	DefaultLease = time.Minute
	// DefaultSendTimeout bounds one provider call, well under Netlify's
	// 30 s (scheduled) and 60 s (synchronous) function limits.
	DefaultSendTimeout = 10 * time.Second
	// recordTimeout bounds writing a send's result, on a context the
	// caller's cancellation does not reach.
	recordTimeout = 5 * time.Second
)

// backoff is the delay before the next attempt after the nth unsuccessful
// one (n ≥ 1): base·2^(n−1), capped at maxDelay, less a random quarter
// (r in [0, 1)). The jitter spreads the retries of rows that failed
// together; keeping it within a quarter below means a delay never shrinks
// from one attempt to the next and never exceeds the cap.
//
// Not cenkalti/backoff: its ExponentialBackOff is a stateful iterator for
// in-process retry loops, while here the state is the row's attempts column
// and the nth delay is needed directly; and its cap applies before the
// jitter, so delays would overshoot maxDelay by the randomization factor.
func backoff(n int, base time.Duration, r float64) time.Duration {
	d := maxDelay
	if n < 1 {
		n = 1
	}
	if n <= 30 { // beyond, the shift overflows; the cap has long applied
		if shifted := base << (n - 1); shifted > 0 && shifted < maxDelay {
			d = shifted
		}
	}
	return d - time.Duration(float64(d)*r/4)
}

// retryDelay is how long a row waits after its nth attempt failed with err's
// class: the provider's Retry-After when it is longer than our backoff.
func retryDelay(n int, rateLimit *RateLimitError) time.Duration {
	if rateLimit == nil {
		return backoff(n, transientBase, rand.Float64())
	}
	d := backoff(n, rateLimitBase, rand.Float64())
	if hint := min(rateLimit.RetryAfter, maxRetryAfter); hint > d {
		d = hint
	}
	return d
}
