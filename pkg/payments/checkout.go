package payments

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/checkout/session"
	"github.com/stripe/stripe-go/v79/refund"
	"golang.org/x/time/rate"

	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/httpx"
)

// Checkout Session statuses, as Stripe names them.
const (
	StatusOpen     = "open"
	StatusComplete = "complete"
	StatusExpired  = "expired"
)

// Stripe's window for expires_at: "between 30 minutes and 24 hours after the
// current time" (docs.stripe.com/payments/checkout/managing-limited-inventory),
// by Stripe's clock at creation: callers should leave a minute's margin.
const (
	MinSessionLife = 30 * time.Minute
	MaxSessionLife = 24 * time.Hour

	// httpTimeout bounds one attempt; the caller's context deadline bounds
	// the call with its retries (a scheduled function has 30 s).
	httpTimeout = 10 * time.Second
	// maxNetworkRetries is stripe-go's own retry count (5xx, 409, 429
	// lock_timeout, network errors; it backs off 0.5 s, 1 s). Retries are
	// safe: every POST carries an idempotency key (ours, or one stripe-go
	// generates and reuses across its retries).
	maxNetworkRetries = 2
)

// Line is one order line, priced from Postgres.
type Line struct {
	Name       string
	UnitAmount int64 // minor units
	Quantity   int64
}

// SessionRequest is what a Checkout Session is created from. The caller
// stores it on the order so that a retry sends the identical request.
type SessionRequest struct {
	OrderID  uuid.UUID
	Lines    []Line
	Currency string // ISO 4217, any case
	// ExpiresAt is computed once by the caller and stored with the order.
	ExpiresAt time.Time
	// CustomerRef is our customer id, copied to metadata[customer_ref]. It
	// is shown in Stripe's Dashboard and events: never a phone number.
	CustomerRef string
}

// Session is what the shop reads of a Checkout Session.
type Session struct {
	ID            string
	URL           string // only while open
	ExpiresAt     time.Time
	Status        string // StatusOpen, StatusComplete, StatusExpired
	PaymentStatus string // paid, unpaid, no_payment_required
	// PaymentIntentID is set once the customer paid: what Refund takes.
	PaymentIntentID string
}

// Checkout creates, reads and expires Checkout Sessions and refunds
// payments. It is safe for concurrent use.
type Checkout struct {
	// Only the two resource clients the shop uses: stripe-go's client.API
	// imports every resource and nearly doubles a function's binary.
	sessions   session.Client
	refunds    refund.Client
	limiter    *rate.Limiter
	now        func() time.Time
	successURL string
	cancelURL  string
	retries    int64
}

// Option configures a Checkout.
type Option func(*Checkout)

// WithLimiter replaces the limiter built from cfg.RateLimit.
func WithLimiter(l *rate.Limiter) Option { return func(c *Checkout) { c.limiter = l } }

// WithClock sets the clock expires_at is checked against.
func WithClock(now func() time.Time) Option { return func(c *Checkout) { c.now = now } }

// WithMaxNetworkRetries overrides stripe-go's retry count (tests use 0).
func WithMaxNetworkRetries(n int64) Option { return func(c *Checkout) { c.retries = n } }

// NewCheckout builds a client for cfg.BaseURL with cfg.Secret. The key stays
// in this client: the global stripe.Key is never set, so tests and the
// stand-in can run several clients side by side.
func NewCheckout(cfg config.StripeAPI, opts ...Option) (*Checkout, error) {
	switch u, err := url.Parse(cfg.BaseURL); {
	case cfg.Secret == "":
		return nil, errors.New("new checkout: STRIPE_SECRET is empty")
	case err != nil || u.Host == "":
		return nil, errors.New("new checkout: STRIPE_API_BASE_URL is not an absolute url")
	case cfg.RateLimit <= 0:
		return nil, errors.New("new checkout: STRIPE_RATE_LIMIT must be positive")
	}
	c := &Checkout{
		// A burst of 1 paces calls evenly, under the limit in every second
		// (Stripe allows 25 requests/s in test mode, 100 in live mode:
		// docs.stripe.com/rate-limits). Each process has its own limiter:
		// it paces one cleanup run, not the account.
		limiter:    rate.NewLimiter(rate.Limit(cfg.RateLimit), 1),
		now:        time.Now,
		successURL: cfg.SuccessURL,
		cancelURL:  cfg.CancelURL,
		retries:    maxNetworkRetries,
	}
	for _, o := range opts {
		o(c)
	}
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:               stripe.String(cfg.BaseURL),
		HTTPClient:        httpx.NewClient(httpTimeout),
		MaxNetworkRetries: stripe.Int64(c.retries),
		// Callers log errors once; stripe-go's logger would print them again.
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	c.sessions = session.Client{B: backend, Key: cfg.Secret}
	c.refunds = refund.Client{B: backend, Key: cfg.Secret}
	return c, nil
}

// CreateSession creates the order's Checkout Session. The idempotency key
// is derived from the order id, so a retry with the same request returns the
// same session instead of a second one.
func (c *Checkout) CreateSession(ctx context.Context, req SessionRequest) (Session, error) {
	op := "create checkout session for order " + req.OrderID.String()
	params, err := c.sessionParams(req)
	if err == nil {
		err = c.wait(ctx)
	}
	if err != nil {
		return Session{}, fmt.Errorf("%s: %w", op, err)
	}
	params.Context = ctx
	params.SetIdempotencyKey("checkout-session-" + req.OrderID.String())
	s, err := c.sessions.New(params)
	if err != nil {
		return Session{}, wrapCall(op, err, true)
	}
	return fromStripe(s), nil
}

func (c *Checkout) sessionParams(req SessionRequest) (*stripe.CheckoutSessionParams, error) {
	switch currency := strings.ToLower(req.Currency); {
	case len(currency) != 3 || strings.Trim(currency, "abcdefghijklmnopqrstuvwxyz") != "":
		return nil, invalid("currency %q is not an ISO 4217 code", req.Currency)
	case req.OrderID == uuid.Nil || len(req.Lines) == 0:
		return nil, invalid("an order id and at least one line are required")
	}
	// The 30-minute floor is left to Stripe: a retry may come when less than
	// 30 min remain, and Stripe then replays the session it saved under the
	// key, or refuses with param expires_at (ErrExpiresAt) if it made none.
	if life := req.ExpiresAt.Sub(c.now()); life <= 0 || life > MaxSessionLife {
		return nil, fmt.Errorf("%w: %s is %s from now, want %s to %s", ErrExpiresAt,
			req.ExpiresAt.UTC().Format(time.RFC3339), life.Round(time.Second), MinSessionLife, MaxSessionLife)
	}
	order := req.OrderID.String()
	p := &stripe.CheckoutSessionParams{
		// No payment_method_types: Checkout offers what the Dashboard enables,
		// cards and other common methods by default (docs.stripe.com/upgrades/
		// manage-payment-methods); delayed ones only if the shop adds them.
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		SuccessURL:        stripe.String(c.successURL), // may hold {CHECKOUT_SESSION_ID}
		CancelURL:         stripe.String(c.cancelURL),
		ClientReferenceID: stripe.String(order),
		ExpiresAt:         stripe.Int64(req.ExpiresAt.Unix()),
		Metadata:          map[string]string{"order_id": order},
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{
			Metadata: map[string]string{"order_id": order},
		},
	}
	if req.CustomerRef != "" {
		p.Metadata["customer_ref"] = req.CustomerRef
		p.PaymentIntentData.Metadata["customer_ref"] = req.CustomerRef
	}
	for i, l := range req.Lines {
		if l.Name == "" || l.Quantity < 1 || l.UnitAmount < 0 {
			return nil, invalid("line %d needs a name, a quantity of at least 1 and a unit amount of at least 0", i)
		}
		p.LineItems = append(p.LineItems, &stripe.CheckoutSessionLineItemParams{
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(strings.ToLower(req.Currency)),
				UnitAmount:  stripe.Int64(l.UnitAmount),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(l.Name)},
			},
			Quantity: stripe.Int64(l.Quantity),
		})
	}
	return p, nil
}

// ExpireSession expires session id so nobody can pay it any more, and
// returns the status it ends in. Stripe expires only open sessions and
// answers 400 for the others (docs.stripe.com/api/checkout/sessions/expire:
// "Returns an error if the Checkout Session has already expired or isn't in
// an expireable state"); then the session is read and its status returned
// without error: complete means the customer paid (keep the stock), expired
// means nobody can (release it). An error is never a confirmation.
func (c *Checkout) ExpireSession(ctx context.Context, id string) (Session, error) {
	if id == "" {
		return Session{}, fmt.Errorf("expire checkout session: %w", invalid("empty session id"))
	}
	if err := c.wait(ctx); err != nil {
		return Session{}, fmt.Errorf("expire checkout session %s: %w", id, err)
	}
	// stripe-go's generated key covers its retries; the next call gets a new one.
	s, err := c.sessions.Expire(id, &stripe.CheckoutSessionExpireParams{Params: stripe.Params{Context: ctx}})
	if err == nil {
		return fromStripe(s), nil
	}
	var se *stripe.Error
	if !errors.As(err, &se) || se.HTTPStatusCode != http.StatusBadRequest {
		return Session{}, wrapCall("expire checkout session "+id, err, false)
	}
	got, getErr := c.GetSession(ctx, id)
	if getErr != nil {
		return Session{}, getErr
	}
	if got.Status == StatusOpen { // the 400 was about something else
		return Session{}, wrapCall("expire checkout session "+id, err, false)
	}
	return got, nil
}

// GetSession reads session id.
func (c *Checkout) GetSession(ctx context.Context, id string) (Session, error) {
	if id == "" {
		return Session{}, fmt.Errorf("get checkout session: %w", invalid("empty session id"))
	}
	if err := c.wait(ctx); err != nil {
		return Session{}, fmt.Errorf("get checkout session %s: %w", id, err)
	}
	s, err := c.sessions.Get(id, &stripe.CheckoutSessionParams{Params: stripe.Params{Context: ctx}})
	if err != nil {
		return Session{}, wrapCall("get checkout session "+id, err, false)
	}
	return fromStripe(s), nil
}

// Refund refunds amount minor units of a payment (0: all that is left).
// idempotencyKey is required and must derive from our ids (the order and
// the reason for the refund), so that a retry cannot refund twice.
func (c *Checkout) Refund(ctx context.Context, paymentIntentID string, amount int64, idempotencyKey string, metadata map[string]string) (string, error) {
	op := "refund " + paymentIntentID
	switch {
	case paymentIntentID == "":
		return "", fmt.Errorf("refund: %w", invalid("empty payment intent id"))
	case amount < 0:
		return "", fmt.Errorf("%s: %w", op, invalid("negative amount %d", amount))
	case idempotencyKey == "" || len(idempotencyKey) > 255: // Stripe's limit
		return "", fmt.Errorf("%s: %w", op, invalid("an idempotency key of 1 to 255 characters is required"))
	}
	p := &stripe.RefundParams{Params: stripe.Params{Context: ctx}, PaymentIntent: stripe.String(paymentIntentID)}
	if amount > 0 {
		p.Amount = stripe.Int64(amount)
	}
	p.Metadata = maps.Clone(metadata)
	p.SetIdempotencyKey(idempotencyKey)
	if err := c.wait(ctx); err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	r, err := c.refunds.New(p)
	if err != nil {
		return "", wrapCall(op, err, true)
	}
	return r.ID, nil
}

// wait takes a token from the limiter, giving up at once when the context's
// deadline would pass first: no call was made, so the caller may retry.
func (c *Checkout) wait(ctx context.Context) error {
	if err := c.limiter.Wait(ctx); err != nil {
		return fmt.Errorf("%w: rate limiter: %w", ErrTransient, err)
	}
	return nil
}

func fromStripe(s *stripe.CheckoutSession) Session {
	var pi string
	if s.PaymentIntent != nil { // an id until expanded
		pi = s.PaymentIntent.ID
	}
	return Session{ID: s.ID, URL: s.URL, ExpiresAt: time.Unix(s.ExpiresAt, 0).UTC(),
		Status: string(s.Status), PaymentStatus: string(s.PaymentStatus), PaymentIntentID: pi}
}
