package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v79"
)

// Event types the shop acts on.
const (
	EventSessionCompleted     = "checkout.session.completed"
	EventAsyncPaymentSucceded = "checkout.session.async_payment_succeeded"
	EventAsyncPaymentFailed   = "checkout.session.async_payment_failed"
	EventSessionExpired       = "checkout.session.expired"
	EventChargeRefunded       = "charge.refunded"
)

// Event is what the shop reads of a Stripe event: only fields that have the
// same name and meaning in every API version, so an endpoint pinned to
// another version than stripe-go's still works.
type Event struct {
	ID      string
	Type    string
	Created time.Time
	// Checkout session events.
	SessionID       string
	OrderID         string // client_reference_id, or metadata.order_id (a charge's, if it has one)
	PaymentStatus   string // paid | unpaid | no_payment_required
	PaymentIntentID string
	AmountTotal     int64
	Currency        string
	// charge.refunded.
	ChargeAmount   int64
	AmountRefunded int64
}

// Applier makes an event's change in the shop exactly once: it records the
// event id in the transaction of the change, and finds a recorded event
// done. A transient failure is returned so Stripe retries.
type Applier interface {
	Apply(ctx context.Context, e Event) error
	// Applied says whether the event with this id was recorded.
	Applied(ctx context.Context, eventID string) (bool, error)
}

// ErrRetryLater asks Stripe to deliver the event again later: it arrived
// before the event it depends on (a refund before its payment).
var ErrRetryLater = errors.New("payments: event arrived early, retry later")

// ErrNotHandled marks a relevant event the shop cannot apply yet: it is
// answered with a 5xx so Stripe keeps it and retries.
var ErrNotHandled = errors.New("payments: event type not handled yet")

// handled says whether the shop acts on an event type; others are
// acknowledged and ignored.
func handled(eventType string) bool {
	switch eventType {
	case EventSessionCompleted, EventAsyncPaymentSucceded, EventAsyncPaymentFailed,
		EventSessionExpired, EventChargeRefunded:
		return true
	}
	return false
}

type sessionObject struct {
	ID                string            `json:"id"`
	ClientReferenceID string            `json:"client_reference_id"`
	Metadata          map[string]string `json:"metadata"`
	PaymentStatus     string            `json:"payment_status"`
	PaymentIntent     json.RawMessage   `json:"payment_intent"`
	AmountTotal       int64             `json:"amount_total"`
	Currency          string            `json:"currency"`
}

type chargeObject struct {
	Metadata       map[string]string `json:"metadata"`
	PaymentIntent  json.RawMessage   `json:"payment_intent"`
	Amount         int64             `json:"amount"`
	AmountRefunded int64             `json:"amount_refunded"`
}

// readEvent pulls the stable fields out of a verified event.
func readEvent(se stripe.Event) (Event, error) {
	e := Event{ID: se.ID, Type: string(se.Type), Created: time.Unix(se.Created, 0)}
	if se.Data == nil {
		return e, errors.New("event has no data")
	}
	switch e.Type {
	case EventChargeRefunded:
		var c chargeObject
		if err := json.Unmarshal(se.Data.Raw, &c); err != nil {
			return e, fmt.Errorf("read charge: %w", err)
		}
		e.PaymentIntentID = idOf(c.PaymentIntent)
		e.ChargeAmount, e.AmountRefunded = c.Amount, c.AmountRefunded
		// When the charge carries the PaymentIntent's order_id, the order is
		// found even before its payment's event recorded the PaymentIntent.
		e.OrderID = c.Metadata["order_id"]
	default:
		var s sessionObject
		if err := json.Unmarshal(se.Data.Raw, &s); err != nil {
			return e, fmt.Errorf("read checkout session: %w", err)
		}
		e.SessionID, e.PaymentStatus, e.AmountTotal, e.Currency = s.ID, s.PaymentStatus, s.AmountTotal, s.Currency
		e.PaymentIntentID = idOf(s.PaymentIntent)
		e.OrderID = s.ClientReferenceID
		if e.OrderID == "" {
			e.OrderID = s.Metadata["order_id"]
		}
	}
	return e, nil
}

// idOf reads an id that Stripe sends as a string, or as an object when
// expanded.
func idOf(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &obj)
	return obj.ID
}
