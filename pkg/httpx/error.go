// Package httpx holds what every endpoint shares at the HTTP edge: one error
// type mapped to statuses in one place, request ids, and logging.
package httpx

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a failure with a status and a message safe to show the caller;
// Cause, which may hold internals, is only logged.
type Error struct {
	Status  int
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Cause)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf makes an Error whose message the caller may see.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a status and public message to an internal cause.
func Wrap(status int, message string, cause error) *Error {
	return &Error{Status: status, Message: message, Cause: cause}
}

// statusOf maps any error to its answer: an *Error says; anything else is an
// internal failure, answered 503 so Meta and Stripe retry it later.
func statusOf(err error) (int, string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Status, e.Message
	}
	return http.StatusServiceUnavailable, "temporarily unavailable, retry later"
}
