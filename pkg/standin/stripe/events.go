package stripe

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v79/webhook"
)

// webhookTimeout bounds one delivery. Stripe allows endpoints a few seconds
// too; a handler slower than this is a finding, not something to wait out.
const webhookTimeout = 10 * time.Second

// maxWebhookBody is how much of the webhook's answer a Delivery keeps, to
// show why it failed.
const maxWebhookBody = 1 << 10

// event is Stripe's Event object (docs.stripe.com/api/events/object) as
// webhook endpoints receive it.
type event struct {
	ID              string       `json:"id"`
	Object          string       `json:"object"`
	APIVersion      string       `json:"api_version"`
	Created         int64        `json:"created"`
	Data            eventData    `json:"data"`
	Livemode        bool         `json:"livemode"`
	PendingWebhooks int          `json:"pending_webhooks"`
	Request         eventRequest `json:"request"`
	Type            string       `json:"type"`
}

type eventData struct {
	Object any `json:"object"`
}

// eventRequest is null-valued: the stand-in's events come from the control
// API, as Stripe's come from the customer's browser, not from an API call.
type eventRequest struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// Event types the control actions send.
const (
	eventCompleted      = "checkout.session.completed"
	eventExpired        = "checkout.session.expired"
	eventAsyncSucceeded = "checkout.session.async_payment_succeeded"
	eventAsyncFailed    = "checkout.session.async_payment_failed"
)

// sendEvent builds the event of type typ about sess, delivers it to the
// webhook and records the delivery. It must be called without s.mu held: the
// webhook may call back into this server.
func (s *Server) sendEvent(ctx context.Context, typ string, sess Session) Delivery {
	payload, _ := json.MarshalIndent(event{
		ID:              newID("evt_1", 23),
		Object:          "event",
		APIVersion:      s.opts.APIVersion,
		Created:         s.opts.Now().Unix(),
		Data:            eventData{Object: sess},
		PendingWebhooks: 1,
		Type:            typ,
	}, "", "  ")
	d := s.deliver(ctx, payload)

	s.mu.Lock()
	s.events = append(s.events, d)
	s.mu.Unlock()
	return d
}

// deliver POSTs payload to the webhook, signed as Stripe signs it:
// Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>">.
//
// The signature's timestamp is the wall clock, not Options.Now: receivers
// check it against their own time.Now (stripe-go's webhook.ConstructEvent
// allows 5 minutes), so a test clock set elsewhere would make every event
// look forged or stale.
func (s *Server) deliver(ctx context.Context, payload []byte) Delivery {
	s.mu.Lock()
	d := Delivery{Event: payload, WebhookURL: s.opts.WebhookURL}
	s.mu.Unlock()
	if d.WebhookURL == "" {
		d.WebhookError = "no webhook URL configured"
		return d
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload:   payload,
		Secret:    s.opts.WebhookSecret,
		Timestamp: time.Now(),
	})
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.WebhookURL, bytes.NewReader(payload))
	if err != nil {
		d.WebhookError = err.Error()
		return d
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set("Stripe-Signature", signed.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.WebhookError = err.Error()
		return d
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookBody))
	d.WebhookStatus = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		d.WebhookError = "webhook answered " + resp.Status + ": " + string(body)
	}
	return d
}

// SetWebhookURL changes where events go; empty records them without
// sending, so a test can deliver them itself (duplicates, out of order).
func (s *Server) SetWebhookURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.WebhookURL = url
}
