package outbox

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDeliverRecordsTheProviderID(t *testing.T) {
	sender := newFakeSender()
	o, _ := newOutbox(t, sender)
	id := enqueue(t, o.DB, reply("reply"))

	if got := deliver(t, o, id); got != Sent {
		t.Fatalf("Deliver = %s, want sent", got)
	}
	got := readRow(t, o.DB, id)
	want := row{Status: StatusSent, Attempts: 1, ProviderID: "wamid." + id.String() + ".1", NextAt: got.NextAt, SentAt: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if got := deliver(t, o, id); got != Skipped {
		t.Errorf("second Deliver = %s, want skipped", got)
	}
	if n := sender.Calls(id); n != 1 {
		t.Errorf("sender called %d times, want 1", n)
	}
}

func TestTransientFailuresBackOffAndSendOnce(t *testing.T) {
	sender := newFakeSender(errUpstream, errUpstream, errUpstream)
	o, clk := newOutbox(t, sender)
	id := enqueue(t, o.DB, reply("reply"))

	if got := deliver(t, o, id); got != Retrying {
		t.Fatalf("first Deliver = %s, want retrying", got)
	}
	var delays []time.Duration
	for range 3 {
		r := readRow(t, o.DB, id)
		if r.Leased || r.LastError != errUpstream.Error() {
			t.Fatalf("after a failure: leased %v, last_error %q", r.Leased, r.LastError)
		}
		delay := r.NextAt.Sub(clk.Now())
		delays = append(delays, delay)

		// Not due yet: nothing happens, however often it is asked.
		clk.Set(r.NextAt.Add(-time.Millisecond))
		if got := deliver(t, o, id); got != Skipped {
			t.Fatalf("Deliver before the retry time = %s, want skipped", got)
		}
		clk.Set(r.NextAt)
		if _, err := o.RetryDue(t.Context(), 10); err != nil {
			t.Fatal(err)
		}
	}
	for i, d := range delays {
		lo, hi := transientBase<<i*3/4, transientBase<<i
		if d < lo || d > hi {
			t.Errorf("delay %d = %s, want within [%s, %s]", i+1, d, lo, hi)
		}
		if i > 0 && d <= delays[i-1] {
			t.Errorf("delay %d = %s did not grow from %s", i+1, d, delays[i-1])
		}
	}
	if r := readRow(t, o.DB, id); r.Status != StatusSent || r.Attempts != 4 || r.LastError != "" {
		t.Errorf("row = %+v, want sent on attempt 4 with no error left", r)
	}
	if calls, sent := sender.Calls(id), sender.Sent(id); calls != 4 || sent != 1 {
		t.Errorf("sender calls %d, sends %d; want 4 and 1", calls, sent)
	}
}

func TestPermanentFailureIsRecordedAndNeverRetried(t *testing.T) {
	sender := newFakeSender(&PermanentError{Err: errors.New("graph api: code 131026: message undeliverable")})
	o, clk := newOutbox(t, sender)
	id := enqueue(t, o.DB, reply("reply"))

	if got := deliver(t, o, id); got != Failed {
		t.Fatalf("Deliver = %s, want failed", got)
	}
	r := readRow(t, o.DB, id)
	if r.Status != StatusFailed || !strings.Contains(r.LastError, "131026") || r.Leased {
		t.Errorf("row = %+v, want failed with the reason and no lease", r)
	}
	clk.Advance(24 * time.Hour)
	if rep, err := o.RetryDue(t.Context(), 10); err != nil || rep != (Report{}) {
		t.Errorf("RetryDue = %+v, %v; want nothing to do", rep, err)
	}
	if n := sender.Calls(id); n != 1 {
		t.Errorf("sender called %d times, want 1", n)
	}
}

func TestRateLimitHonoursRetryAfterOrALongerBackoff(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		lo, hi time.Duration
	}{
		{"no hint", &RateLimitError{Err: errUpstream}, rateLimitBase * 3 / 4, rateLimitBase},
		{"hint longer than backoff", &RateLimitError{RetryAfter: 10 * time.Minute, Err: errUpstream}, 10 * time.Minute, 10 * time.Minute},
		{"hint shorter than backoff", &RateLimitError{RetryAfter: time.Second, Err: errUpstream}, rateLimitBase * 3 / 4, rateLimitBase},
		{"absurd hint", &RateLimitError{RetryAfter: 1000 * time.Hour, Err: errUpstream}, maxRetryAfter, maxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, clk := newOutbox(t, newFakeSender(tt.err))
			id := enqueue(t, o.DB, reply("reply"))
			if got := deliver(t, o, id); got != Retrying {
				t.Fatalf("Deliver = %s, want retrying", got)
			}
			r := readRow(t, o.DB, id)
			if d := r.NextAt.Sub(clk.Now()); d < tt.lo || d > tt.hi {
				t.Errorf("next attempt in %s, want within [%s, %s]", d, tt.lo, tt.hi)
			}
			if !strings.Contains(r.LastError, "rate limited") {
				t.Errorf("last_error = %q", r.LastError)
			}
		})
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	sender := newFakeSender(errUpstream, errUpstream, errUpstream, errUpstream)
	o, clk := newOutbox(t, sender)
	o.MaxAttempts = 3
	id := enqueue(t, o.DB, reply("reply"))

	var outcomes []Outcome
	for range 3 {
		outcomes = append(outcomes, deliver(t, o, id))
		clk.Advance(maxDelay)
	}
	if diff := cmp.Diff([]Outcome{Retrying, Retrying, Failed}, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	r := readRow(t, o.DB, id)
	if r.Status != StatusFailed || !strings.Contains(r.LastError, "gave up after 3 attempts") {
		t.Errorf("row = %+v, want failed after 3 attempts", r)
	}
}

// A message that keeps being put off (Retry-After of a day, say) is given
// up when it is older than MaxAge, however few its attempts. Its age is
// measured on Postgres's clock, which wrote created_at.
func TestGivesUpPastMaxAge(t *testing.T) {
	sender := newFakeSender(errUpstream, errUpstream)
	o, _ := newOutbox(t, sender)
	id := enqueue(t, o.DB, reply("reply"))
	if got := deliver(t, o, id); got != Retrying {
		t.Fatalf("first try = %s, want retrying", got)
	}
	if _, err := o.DB.Exec(t.Context(), `UPDATE outbox SET created_at = now() - $2 * interval '1 second',
		next_attempt_at = now() WHERE id = $1`, id, DefaultMaxAge.Seconds()); err != nil {
		t.Fatal(err)
	}
	if got := deliver(t, o, id); got != Failed {
		t.Fatalf("try at %s old = %s, want failed", DefaultMaxAge, got)
	}
	if r := readRow(t, o.DB, id); r.Attempts != 2 || !strings.Contains(r.LastError, "gave up after 2 attempts in 48h0m0s") {
		t.Errorf("row = %+v, want failed after 2 attempts in 48h", r)
	}
}

// A sender that died holding the lease blocks the row only until the lease
// runs out; then the row is taken again.
func TestExpiredLeaseIsTakenAgain(t *testing.T) {
	sender := newFakeSender()
	o, clk := newOutbox(t, sender)
	id := enqueue(t, o.DB, reply("reply"))

	if _, ok, err := o.take(t.Context(), id, clk.Now()); err != nil || !ok {
		t.Fatalf("take = %v, %v", ok, err) // and then "crash": no send, no record
	}
	clk.Advance(DefaultLease - time.Second)
	if got := deliver(t, o, id); got != Skipped {
		t.Fatalf("Deliver during the lease = %s, want skipped", got)
	}
	clk.Advance(time.Second)
	if got := deliver(t, o, id); got != Sent {
		t.Fatalf("Deliver after the lease = %s, want sent", got)
	}
	if r := readRow(t, o.DB, id); r.Attempts != 2 || sender.Sent(id) != 1 {
		t.Errorf("attempts %d, sends %d; want 2 and 1", r.Attempts, sender.Sent(id))
	}
}

// A sender slower than its lease loses the row to another sender. A late
// success is still recorded unless the new holder recorded its own (both
// sends went out: the documented window, which the lease's length makes
// rare); a late failure never overrides the new holder.
func TestSenderSlowerThanItsLease(t *testing.T) {
	tests := []struct {
		name         string
		script       []error // the slow sender's answer comes last
		wantNested   Outcome
		wantOuter    Outcome
		wantStatus   string
		wantProvider string // suffix of the fake wamid recorded
	}{
		{"new holder sends first", []error{nil, nil}, Sent, Sent, StatusSent, ".1"},
		{"new holder fails, late success counts", []error{errUpstream, nil}, Retrying, Sent, StatusSent, ".1"},
		{"late failure is ignored", []error{nil, errUpstream}, Sent, Skipped, StatusSent, ".1"},
		{"late permanent failure is ignored", []error{errUpstream, &PermanentError{Err: errUpstream}}, Retrying, Skipped, StatusPending, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sender := newFakeSender(tt.script...)
			o, clk := newOutbox(t, sender)
			id := enqueue(t, o.DB, reply("reply"))

			var nested Outcome
			calls := 0
			sender.onSend = func() {
				if calls++; calls == 1 { // the first sender stalls past its lease…
					clk.Advance(DefaultLease + time.Second)
					nested = deliver(t, o, id) // …and another takes the row over
				}
			}
			outer := deliver(t, o, id)
			if nested != tt.wantNested || outer != tt.wantOuter {
				t.Errorf("new holder %s, slow sender %s; want %s, %s", nested, outer, tt.wantNested, tt.wantOuter)
			}
			r := readRow(t, o.DB, id)
			if r.Status != tt.wantStatus || !strings.HasSuffix(r.ProviderID, tt.wantProvider) || r.Attempts != 2 {
				t.Errorf("row = %+v, want %s with wamid …%s after 2 attempts", r, tt.wantStatus, tt.wantProvider)
			}
		})
	}
}

func TestConcurrentDeliverSendsOnce(t *testing.T) {
	sender := newFakeSender()
	o, _ := newOutbox(t, sender)
	id := enqueue(t, o.DB, reply("reply"))

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes = map[Outcome]int{}
	)
	for range 20 {
		wg.Go(func() {
			got, err := o.Deliver(t.Context(), id)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			outcomes[got]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if diff := cmp.Diff(map[Outcome]int{Sent: 1, Skipped: 19}, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if n := sender.Calls(id); n != 1 {
		t.Errorf("sender called %d times, want 1", n)
	}
}

// The default number of attempts rides out a day-long Graph API outage,
// whatever the jitter draws.
func TestDefaultAttemptsSpanADay(t *testing.T) {
	for _, r := range []float64{0, 0.999} {
		var span time.Duration
		for n := 1; n < DefaultMaxAttempts; n++ {
			span += backoff(n, transientBase, r)
		}
		if span < 19*time.Hour || span > 27*time.Hour {
			t.Errorf("with jitter %v, %d attempts span %s; want about a day", r, DefaultMaxAttempts, span)
		}
	}
}

func TestBackoffGrowsToTheCap(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999} {
		prev := time.Duration(0)
		for n := 1; n <= 70; n++ {
			d := backoff(n, transientBase, r)
			if d < prev || d > maxDelay {
				t.Fatalf("backoff(%d, r=%v) = %s after %s", n, r, d, prev)
			}
			prev = d
		}
		if want := maxDelay - time.Duration(float64(maxDelay)*r/4); prev != want {
			t.Errorf("backoff(70, r=%v) = %s, want the cap less jitter, %s", r, prev, want)
		}
	}
}
