package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Sender sends one message to the provider. The outbox hands it the row's
// id so it can travel as biz_opaque_callback_data and come back in Meta's
// status webhooks.
//
// The error tells the outbox what to do next:
//   - nil: sent; providerMessageID (the wamid) is recorded.
//   - a *PermanentError: retrying cannot help; the row becomes failed.
//   - a *WindowClosedError: only a template reaches the recipient now; the
//     row's fallback template is sent at once, or the row becomes failed.
//   - a *RateLimitError: the provider asked us to slow down; the row is
//     retried after RetryAfter or a longer backoff.
//   - anything else: transient; retried with exponential backoff.
//
// A Sender must not retry by itself: the outbox owns retries, so that they
// survive the process and are spread over time.
type Sender interface {
	Send(ctx context.Context, recipient string, payload json.RawMessage, outboxID uuid.UUID) (providerMessageID string, err error)
}

// PermanentError is a send that can never succeed as it is: an undeliverable
// recipient, a closed customer-service window, a malformed body.
type PermanentError struct {
	Err error
}

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// WindowClosedError is a message refused because the customer has not
// written for 24 hours (WhatsApp's customer-service window): only a
// template reaches them now.
type WindowClosedError struct {
	Err error
}

func (e *WindowClosedError) Error() string { return "window closed: " + e.Err.Error() }
func (e *WindowClosedError) Unwrap() error { return e.Err }

// RateLimitError is a send refused because we sent too fast (the Graph API's
// throughput or pair rate limit). RetryAfter is the provider's hint; zero
// means none was given.
type RateLimitError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *RateLimitError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("rate limited (retry after %s): %v", e.RetryAfter, e.Err)
	}
	return "rate limited: " + e.Err.Error()
}

func (e *RateLimitError) Unwrap() error { return e.Err }

// ErrUnknownMessage is UpdateStatus's answer for a provider message id no
// row has: a status for a message sent by another system, or one that came
// before we recorded the send. The caller may log it; there is nothing to
// retry.
var ErrUnknownMessage = errors.New("outbox: unknown provider message id")

// ErrUnknownStatus is UpdateStatus's answer for a status word the outbox
// does not track (Meta may add some); the row is left alone.
var ErrUnknownStatus = errors.New("outbox: unknown message status")

// Outcome is what one Deliver did.
type Outcome string

const (
	// Sent: the provider accepted the message.
	Sent Outcome = "sent"
	// Retrying: the send failed for now; the row is due again later.
	Retrying Outcome = "retrying"
	// Failed: the send can never succeed, or attempts ran out.
	Failed Outcome = "failed"
	// Skipped: nothing to do here: the row is already sent or failed, not
	// due yet, or leased by another sender.
	Skipped Outcome = "skipped"
)

// classify turns a send error into what happens to the row.
func classify(err error) (permanent bool, rateLimit *RateLimitError) {
	var p *PermanentError
	var w *WindowClosedError
	if errors.As(err, &p) || errors.As(err, &w) {
		return true, nil
	}
	var r *RateLimitError
	if errors.As(err, &r) {
		return false, r
	}
	return false, nil
}
