// Package payments talks to Stripe: Checkout sessions out, signed events in.
package payments

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/wa-shop/shop/pkg/claim"
	"github.com/wa-shop/shop/pkg/httpx"
)

// maxEventBytes bounds a Stripe event body; real ones are a few kilobytes.
const maxEventBytes = 1 << 20

// Callback receives Stripe's webhook events.
type Callback struct {
	secret  string
	applier Applier
	claims  *claim.Claims
	log     *slog.Logger
}

// NewCallback builds the payment-callback endpoint.
func NewCallback(webhookSecret string, applier Applier, claims *claim.Claims, log *slog.Logger) http.Handler {
	c := &Callback{secret: webhookSecret, applier: applier, claims: claims, log: log}
	return httpx.Handle(log, c.serve)
}

func (c *Callback) serve(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		return httpx.Errorf(http.StatusMethodNotAllowed, "method not allowed")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return httpx.Errorf(http.StatusRequestEntityTooLarge, "event too large")
	}
	if err != nil {
		return httpx.Wrap(http.StatusBadRequest, "unreadable body", err)
	}
	// Checked on the exact bytes before anything is parsed or written. The
	// shop reads only fields stable across API versions, so an endpoint
	// pinned to another version than stripe-go's still works.
	se, err := webhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), c.secret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		return httpx.Wrap(http.StatusBadRequest, "invalid signature", err)
	}
	log := c.log.With(slog.String("stripe_event_id", se.ID), slog.String("type", string(se.Type)))
	if !handled(string(se.Type)) {
		log.InfoContext(r.Context(), "stripe event ignored")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	event, err := readEvent(se)
	if err != nil {
		// Signed by Stripe but unreadable: retrying cannot help.
		log.ErrorContext(r.Context(), "stripe event unreadable", slog.String("error", err.Error()))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if err := c.apply(r.Context(), event); err != nil {
		if errors.Is(err, ErrNotHandled) {
			return httpx.Wrap(http.StatusNotImplemented, "event type not handled yet", err)
		}
		if errors.Is(err, ErrRetryLater) {
			return httpx.Wrap(http.StatusServiceUnavailable, "event arrived before the payment it refunds; retry later", err)
		}
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// apply applies the event under its claim, which is given back only when
// applying failed.
func (c *Callback) apply(ctx context.Context, e Event) error {
	applied := func(ctx context.Context) (bool, error) { return c.applier.Applied(ctx, e.ID) }
	err := c.claims.Once(ctx, "claim:stripe:"+e.ID, applied, func(ctx context.Context) error { return c.applier.Apply(ctx, e) })
	if errors.Is(err, claim.ErrHeld) {
		// If the holder fails, this copy's retry (Stripe's next) finds the
		// work undone and does it.
		return httpx.Errorf(http.StatusConflict, "event is being processed")
	}
	return err // Redis down and transient failures: 5xx, Stripe retries
}
