package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/payments"
)

const (
	// Stripe refuses a Checkout session that ends sooner than 30 minutes
	// after it is created; the margin leaves room for a retried request.
	minCheckoutLife = 35 * time.Minute
	// clockSkew pads release_after past the session's end: our clock and
	// Stripe's may disagree by this much.
	clockSkew = 5 * time.Minute
	// rebuildWait bounds how long Create waits out an inventory rebuild.
	rebuildWait = 3 * time.Second
)

// Checkout is the payment provider, as orders use it.
type Checkout interface {
	CreateSession(ctx context.Context, req payments.SessionRequest) (payments.Session, error)
	ExpireSession(ctx context.Context, id string) (payments.Session, error)
	Refund(ctx context.Context, paymentIntentID string, amount int64, idempotencyKey string, metadata map[string]string) (string, error)
}

// Service creates orders.
type Service struct {
	DB          *pgxpool.Pool
	Inventory   *inventory.Inventory
	Checkout    Checkout
	Outbox      *outbox.Outbox // optional: sends the payment link right away
	Now         func() time.Time
	TTL         time.Duration // RESERVATION_TTL
	MaxQuantity int           // MAX_QUANTITY_PER_ORDER
	Templates   Templates
	Log         *slog.Logger
}

// Templates names the WhatsApp templates the shop sends.
type Templates struct {
	Confirmation string // ORDER_CONFIRMATION_TEMPLATE
	Shipping     string // SHIPPING_UPDATE_TEMPLATE
	Language     string // TEMPLATE_LANGUAGE
	// Sent instead of the text messages when the customer's 24-hour window
	// has closed; none when empty (see templates/whatsapp_templates.md).
	PaymentLink  string // PAYMENT_LINK_TEMPLATE
	ExpiryNotice string // EXPIRY_NOTICE_TEMPLATE
	RefundNotice string // REFUND_NOTICE_TEMPLATE
}

// Create turns a request into a provisional order holding its stock, with a
// Checkout session to pay it. It is idempotent per request key and
// resumable: after an ErrUnavailable, the same request continues where it
// stopped. Every failure leaves no hold without an order and no order
// claiming a hold it lacks.
func (s *Service) Create(ctx context.Context, req Request) (*Order, error) {
	if req.Key == "" || len(req.Key) > 200 || !plainText(req.Key, 200) {
		return nil, invalid("a request key of 1 to 200 characters is required")
	}
	lines, err := normalise(req.Lines, s.MaxQuantity)
	if err != nil {
		return nil, err
	}
	if req.Customer, err = checkCustomer(req.Customer); err != nil {
		return nil, err
	}
	hash := requestHash(req.Customer, lines)
	l, err := look(ctx, s.DB, req.Key, lines, req.Customer)
	if err != nil {
		return nil, unavailable("read catalogue and orders", err)
	}
	if l.existing != nil {
		return s.replay(ctx, l.existing, hash)
	}
	items, currency, err := price(lines, l.prices)
	if err != nil {
		return nil, err
	}
	if err := s.cancelPrevious(ctx, l.previous); err != nil {
		return nil, err
	}
	o, err := s.insert(ctx, req, items, currency, hash)
	if err != nil {
		return nil, err
	}
	return s.resume(ctx, o)
}

// replay answers a repeated request with the order its key made, taking it
// further if an earlier attempt stopped halfway.
func (s *Service) replay(ctx context.Context, o *Order, hash string) (*Order, error) {
	if o.RequestHash != hash {
		return nil, ErrKeyReused
	}
	return s.resume(ctx, o)
}

// existing finds the order a concurrent copy of this request made.
func (s *Service) existing(ctx context.Context, key, hash string) (*Order, error) {
	o, err := findByKey(ctx, s.DB, key)
	if err != nil {
		return nil, unavailable("find order", err)
	}
	if o == nil {
		return nil, fmt.Errorf("%w: order for this request vanished", ErrUnavailable)
	}
	return s.replay(ctx, o, hash)
}

func (s *Service) insert(ctx context.Context, req Request, items []Item, currency, hash string) (*Order, error) {
	now := s.Now()
	o := &Order{
		ID: uuid.New(), Key: req.Key, WaID: req.Customer.WaID, CustomerName: req.Customer.Name, Status: StatusPendingPayment,
		Items: items, Currency: currency, TotalMinor: total(items), RequestHash: hash,
		HoldExpiresAt: now.Add(s.TTL),
	}
	// Computed once and stored, so a retried session request is identical.
	o.CheckoutExpiry = now.Add(max(s.TTL, minCheckoutLife)).Truncate(time.Second)
	o.ReleaseAfter = o.CheckoutExpiry.Add(clockSkew)
	err := insertOrder(ctx, s.DB, o, req.Customer)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.ConstraintName == "orders_request_key_key":
		// A concurrent copy of this request won the insert: answer with its order.
		return s.existing(ctx, req.Key, hash)
	case errors.As(err, &pgErr) && pgErr.ConstraintName == "orders_one_unpaid_per_customer":
		return nil, fmt.Errorf("%w: another order for this customer is being created", ErrUnavailable)
	case err != nil:
		return nil, unavailable("insert order", err)
	}
	return o, nil
}

// reasonPaymentRefused is the cancel reason of an order Stripe would not
// take a session for.
const reasonPaymentRefused = "payment_refused"

// resume takes an order as far as it can go: hold, session, payment link.
// Each step is idempotent, so it is safe to run again after any failure.
func (s *Service) resume(ctx context.Context, o *Order) (*Order, error) {
	// A repeated request gets the answer the first one got.
	if o.Status == StatusCancelled && len(o.Shortages) > 0 {
		return nil, &OutOfStockError{Lines: o.Shortages}
	}
	if o.Status == StatusCancelled && o.CancelReason == reasonPaymentRefused {
		return nil, fmt.Errorf("%w (when this request was first made)", ErrPaymentRefused)
	}
	if o.Status != StatusPendingPayment || o.CheckoutURL != "" {
		return o, nil
	}
	if err := s.hold(ctx, o); err != nil {
		return nil, err
	}
	session, err := s.Checkout.CreateSession(ctx, sessionRequest(o))
	if err != nil {
		if payments.IsTransient(err) {
			return nil, unavailable("create checkout session", err)
		}
		s.abandon(ctx, o, reasonPaymentRefused, nil)
		return nil, fmt.Errorf("%w: %w", ErrPaymentRefused, err)
	}
	// The session and the payment link commit together, in one round trip.
	// Only a still-pending order takes the session: cleanup may have expired
	// it while this request was on its way to Stripe.
	var queued uuid.UUID
	var stored bool
	b := &pgx.Batch{}
	b.Queue(`UPDATE orders SET checkout_session_id = $2, checkout_url = $3, updated_at = now()
		WHERE id = $1 AND status = 'pending_payment' AND (checkout_session_id IS NULL OR checkout_session_id = $2)`,
		o.ID, session.ID, session.URL).Exec(func(tag pgconn.CommandTag) error {
		stored = tag.RowsAffected() == 1
		return nil
	})
	if o.WaID != "" {
		// Only if the order took the session: a link to a cancelled order
		// is never queued, so no sender can pick it up.
		if err := outbox.QueueEnqueueWhile(b, s.paymentLink(o, session.URL), StatusPendingPayment, &queued); err != nil {
			return nil, err
		}
	}
	if err := s.DB.SendBatch(ctx, b).Close(); err != nil {
		return nil, unavailable("store checkout session", err)
	}
	if !stored {
		return s.unpayable(ctx, o, session.ID)
	}
	o.CheckoutID, o.CheckoutURL = session.ID, session.URL
	s.deliver(ctx, o, queued)
	return o, nil
}

// unpayable undoes the end of a resume whose order was settled meanwhile
// (cleanup expired it): the new session is expired so nobody pays it, and
// the hold just taken goes back. No link is sent: one is owed only while
// the order is pending payment.
func (s *Service) unpayable(ctx context.Context, o *Order, sessionID string) (*Order, error) {
	if _, err := s.Checkout.ExpireSession(ctx, sessionID); err != nil {
		// A payment would still be refunded or re-reserved by the late-payment path.
		s.Log.WarnContext(ctx, "expire unneeded session", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
	}
	if _, err := s.Inventory.Release(ctx, o.ID.String()); err != nil {
		s.Log.WarnContext(ctx, "release hold", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
	}
	current, err := get(ctx, s.DB, o.ID)
	if err != nil {
		return nil, unavailable("read order", err)
	}
	return current, nil
}

// hold reserves the order's stock in Redis and records it in Postgres.
func (s *Service) hold(ctx context.Context, o *Order) error {
	h := inventory.Hold{OrderID: o.ID.String(), ExpiresAt: o.HoldExpiresAt, ReleaseAfter: o.ReleaseAfter}
	for _, it := range o.Items {
		h.Lines = append(h.Lines, inventory.Line{SKU: it.SKU, Quantity: it.Quantity})
	}
	// Twice at most: once, and once more if a rebuild dropped the hold
	// before Postgres recorded it (see inventory.Reserve).
	for range 2 {
		res, err := s.reserve(ctx, h)
		var short *inventory.ShortError
		if errors.As(err, &short) {
			lines := make([]Shortage, len(short.Lines))
			for i, l := range short.Lines {
				lines[i] = Shortage(l)
			}
			s.abandon(ctx, o, "out_of_stock", lines)
			return &OutOfStockError{Lines: lines}
		}
		if err != nil {
			return unavailable("hold stock", err)
		}
		if err := markHeld(ctx, s.DB, o.ID); err != nil {
			return unavailable("record hold", err)
		}
		epoch, err := s.Inventory.Epoch(ctx)
		if err != nil {
			return unavailable("check hold", err)
		}
		if epoch == res.Epoch {
			return nil
		}
	}
	return unavailable("hold stock", errors.New("availability rebuilt twice while holding"))
}

// reserve waits out a rebuild in progress for a moment before giving up.
func (s *Service) reserve(ctx context.Context, h inventory.Hold) (inventory.Reservation, error) {
	deadline := time.Now().Add(rebuildWait)
	for wait := 10 * time.Millisecond; ; wait *= 2 {
		res, err := s.Inventory.Reserve(ctx, h)
		if !errors.Is(err, inventory.ErrRebuilding) || time.Now().Add(wait).After(deadline) {
			return res, err
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// abandon cancels an order that cannot go on and returns its stock. If this
// fails the order stays pending without a session, and cleanup releases it
// once its hold expires.
func (s *Service) abandon(ctx context.Context, o *Order, reason string, shortages []Shortage) {
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		_, err := cancel(ctx, tx, o.ID, reason, shortages)
		return err
	})
	if err == nil {
		_, err = s.Inventory.Release(ctx, o.ID.String())
	}
	if err != nil {
		s.Log.WarnContext(ctx, "abandon order", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
	}
}

func (s *Service) deliver(ctx context.Context, o *Order, id uuid.UUID) {
	if s.Outbox == nil || id == uuid.Nil {
		return
	}
	if _, err := s.Outbox.Deliver(ctx, id); err != nil {
		// Queued all the same: cleanup's outbox retry sends it.
		s.Log.WarnContext(ctx, "send message", slog.String("order_id", o.ID.String()), slog.String("outbox_id", id.String()), slog.String("error", err.Error()))
	}
}
