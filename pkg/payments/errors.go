package payments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/stripe/stripe-go/v79"
)

// Sentinel errors. Only the HTTP edge maps them to statuses.
var (
	// ErrTransient marks a failure that says nothing about the outcome: a
	// 5xx, a 429, a 409 idempotency conflict, a network error or a timeout.
	// It is never a confirmation (DESIGN "A hold's life"): try again later,
	// with the same idempotency key.
	ErrTransient = errors.New("transient stripe failure")
	// ErrInvalidRequest is a request refused before it reached Stripe.
	ErrInvalidRequest = errors.New("invalid payments request")
	// ErrExpiresAt is a session expiry outside Stripe's window, found by
	// us or by Stripe (then the *stripe.Error is wrapped too).
	ErrExpiresAt = errors.New("session expires_at outside stripe's window")
)

// IsTransient reports whether err is worth retrying with the same request.
// It also classifies raw stripe-go and network errors that did not pass
// through this package; anything else (ErrInvalidRequest, say) is permanent.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrTransient) {
		return true
	}
	var se *stripe.Error
	if errors.As(err, &se) {
		return stripeTransient(se, true)
	}
	var netErr net.Error // *url.Error, dial errors and client timeouts
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &netErr)
}

// IsAlreadyRefunded reports whether Stripe refused a refund because the
// charge was refunded in full already: the money is back all the same.
func IsAlreadyRefunded(err error) bool {
	var se *stripe.Error
	return errors.As(err, &se) && se.Code == stripe.ErrorCodeChargeAlreadyRefunded
}

// stripeTransient classifies Stripe's answer.
//
// From docs.stripe.com/api/errors: 4xx means "failed given the information
// provided", 5xx an error on Stripe's servers, 409 "conflicts with another
// request (perhaps due to using the same idempotent key)", 429 "too many
// requests hit the API too quickly" (code rate_limit; lock_timeout is the
// 429 stripe-go retries, a request that met another on the same object).
// All of those but a plain 4xx may go another way next time. docs.stripe.com/idempotency adds the exception:
// once an endpoint began executing, Stripe saves its answer under the
// idempotency key "including 500 errors" and replays it for 24 hours, so a
// replayed 5xx (Idempotent-Replayed: true) will not change by retrying with
// the same key: permanent when the key is one the caller sends again
// (CreateSession, Refund), transient when the next call gets a new one.
func stripeTransient(se *stripe.Error, stableKey bool) bool {
	switch status := se.HTTPStatusCode; {
	case stableKey && replayed(se):
		return false
	case status == http.StatusConflict, status == http.StatusTooManyRequests, status >= 500:
		return true
	}
	return false
}

func replayed(se *stripe.Error) bool {
	return se.LastResponse != nil && se.LastResponse.Header.Get("Idempotent-Replayed") == "true"
}

// callError is a failed Stripe call: what we were doing, a short reading of
// Stripe's answer, and the errors callers match with errors.Is/As (the
// *stripe.Error, ErrTransient, ErrExpiresAt).
type callError struct {
	op     string
	detail string
	errs   []error
}

func (e *callError) Error() string   { return e.op + ": " + e.detail }
func (e *callError) Unwrap() []error { return e.errs }

// wrapCall turns a stripe-go error into a callError; stableKey says whether
// a retry will send the same idempotency key. stripe.Error's own
// Error() is its whole JSON object; the short form keeps logs readable. No
// part of it carries the secret key: stripe-go sends it in a header, and
// Stripe's "Invalid API Key provided" message shows it redacted.
func wrapCall(op string, err error, stableKey bool) error {
	ce := &callError{op: op, detail: err.Error(), errs: []error{err}}
	var se *stripe.Error
	if errors.As(err, &se) {
		ce.detail = describe(se)
		if se.Param == "expires_at" {
			ce.errs = append(ce.errs, ErrExpiresAt)
		}
	}
	// Any other error out of stripe-go (network, timeout, a body that is not
	// JSON such as a proxy's error page) comes from between us and Stripe,
	// not from our parameters.
	if se == nil || stripeTransient(se, stableKey) {
		ce.errs = append(ce.errs, ErrTransient)
	}
	return ce
}

func describe(se *stripe.Error) string {
	s := fmt.Sprintf("stripe %d %s", se.HTTPStatusCode, se.Type)
	if se.Code != "" {
		s += " " + string(se.Code)
	}
	if se.Param != "" {
		s += " (param " + se.Param + ")"
	}
	if replayed(se) {
		s += " replayed"
	}
	s += ": " + se.Msg
	if se.RequestID != "" {
		s += " [" + se.RequestID + "]"
	}
	return s
}

// invalid is a request refused locally: permanent.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}
