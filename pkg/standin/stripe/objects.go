package stripe

import (
	"encoding/json"
	"net/url"
	"time"
)

// Session is a Checkout Session as Stripe's API shows it, with the fields the
// shop reads and the usual neighbours. Nullable fields are pointers so they
// marshal to null as Stripe's do.
type Session struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	AmountSubtotal     int64             `json:"amount_subtotal"`
	AmountTotal        int64             `json:"amount_total"`
	CancelURL          *string           `json:"cancel_url"`
	ClientReferenceID  *string           `json:"client_reference_id"`
	Created            int64             `json:"created"`
	Currency           string            `json:"currency"`
	Customer           *string           `json:"customer"`
	ExpiresAt          int64             `json:"expires_at"`
	Livemode           bool              `json:"livemode"`
	Metadata           map[string]string `json:"metadata"`
	Mode               string            `json:"mode"`
	PaymentIntent      *string           `json:"payment_intent"`
	PaymentMethodTypes []string          `json:"payment_method_types"`
	PaymentStatus      string            `json:"payment_status"`
	Status             string            `json:"status"`
	SuccessURL         *string           `json:"success_url"`
	UIMode             string            `json:"ui_mode"`
	// URL is where the customer pays. Stripe only shows it while the
	// session is open.
	URL *string `json:"url"`

	lineItems  []lineItem
	payURL     string
	piMetadata map[string]string
	// owesExpiredEvent is set when the session expired without its
	// checkout.session.expired event having been sent (by the API's expire,
	// or by time); the expire control action then sends it.
	owesExpiredEvent bool
}

// Session statuses and payment statuses, as Stripe names them.
const (
	statusOpen     = "open"
	statusComplete = "complete"
	statusExpired  = "expired"

	paymentPaid   = "paid"
	paymentUnpaid = "unpaid"
)

type lineItem struct {
	Name       string
	UnitAmount int64
	Quantity   int64
}

// paymentIntent is the stand-in's record of the payment a paid session made;
// refunds are checked against it. It is not served as an object.
type paymentIntent struct {
	ID       string
	Session  string
	Amount   int64
	Currency string
	Charge   string
	Status   string // succeeded, processing (delayed), requires_payment_method (failed)
	Refunded int64
	Metadata map[string]string
}

// Refund is a refund as Stripe's API shows it.
type Refund struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	Amount        int64             `json:"amount"`
	Charge        string            `json:"charge"`
	Created       int64             `json:"created"`
	Currency      string            `json:"currency"`
	Metadata      map[string]string `json:"metadata"`
	PaymentIntent string            `json:"payment_intent"`
	Reason        *string           `json:"reason"`
	Status        string            `json:"status"`
}

// Request is one API call the stand-in received, as /_control/requests
// reports it: what the code under test actually sent.
type Request struct {
	Method         string     `json:"method"`
	Path           string     `json:"path"`
	Params         url.Values `json:"params"`
	IdempotencyKey string     `json:"idempotency_key,omitempty"`
	Status         int        `json:"status"`
	Replayed       bool       `json:"replayed,omitempty"`
	Time           time.Time  `json:"time"`
}

// Delivery is an event the stand-in sent (or tried to) and how the webhook
// answered. WebhookStatus is 0 when no answer came; WebhookError says why.
type Delivery struct {
	Event         json.RawMessage `json:"event"`
	WebhookURL    string          `json:"webhook_url"`
	WebhookStatus int             `json:"webhook_status"`
	WebhookError  string          `json:"webhook_error,omitempty"`
}

// ActionResult answers a session control action: the session after it and
// the event it caused.
type ActionResult struct {
	Session Session `json:"session"`
	Delivery
}
