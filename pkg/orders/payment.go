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

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/payments"
)

// earlyRefundWindow is how long a refund for a PaymentIntent we do not know
// is retried, in case its payment's event is still on its way.
const earlyRefundWindow = time.Hour

// Apply makes a Stripe event's change exactly once (payments.Applier). The
// event id is recorded in the transaction of the change; a recorded event
// is done. Errors are transient: the caller answers 5xx and Stripe retries.
func (s *Service) Apply(ctx context.Context, e payments.Event) error {
	done, o, err := s.eventAndOrder(ctx, e)
	if err != nil || done {
		return err
	}
	if o == nil && e.Type == payments.EventChargeRefunded && s.Now().Sub(e.Created) < earlyRefundWindow {
		// Probably a refund overtaking its payment's event: the order is
		// found by the PaymentIntent the payment records. Let Stripe retry.
		return payments.ErrRetryLater
	}
	if o == nil {
		// Not ours (another shop on the account, or a deleted order): record it
		// so it is answered 200 and not retried for days.
		s.Log.WarnContext(ctx, "stripe event for an unknown order", slog.String("stripe_event_id", e.ID))
		return s.record(ctx, s.DB, e, nil, "unknown_order")
	}
	switch e.Type {
	case payments.EventSessionCompleted, payments.EventAsyncPaymentSucceded:
		if e.Type == payments.EventSessionCompleted && e.PaymentStatus == "unpaid" {
			return s.processing(ctx, e, o)
		}
		return s.paid(ctx, e, o)
	case payments.EventAsyncPaymentFailed:
		return s.settle(ctx, e, o, StatusPaymentFailed, []string{StatusPendingPayment, StatusProcessing}, paymentFailedNotice(o))
	case payments.EventSessionExpired:
		return s.settle(ctx, e, o, StatusExpired, []string{StatusPendingPayment}, s.expiryNotice(o))
	case payments.EventChargeRefunded:
		return s.refunded(ctx, e, o)
	}
	return payments.ErrNotHandled
}

// eventRecordedSQL tells whether an event was applied: its row is written
// in the transaction of its change.
const eventRecordedSQL = `SELECT EXISTS (SELECT 1 FROM processed_events WHERE stripe_event_id = $1)`

// Applied says whether the event was recorded (payments.Applier).
func (s *Service) Applied(ctx context.Context, eventID string) (done bool, err error) {
	err = s.DB.QueryRow(ctx, eventRecordedSQL, eventID).Scan(&done)
	return done, err
}

// eventAndOrder reads, in one round trip, whether the event was applied and
// the order it is about: found by the order id the session carries, else by
// its Checkout session or (for charges) its PaymentIntent. One key per
// query keeps each plan a single index lookup.
func (s *Service) eventAndOrder(ctx context.Context, e payments.Event) (done bool, o *Order, err error) {
	var where string
	var key any
	switch id, err := uuid.Parse(e.OrderID); {
	case err == nil:
		where, key = "o.id = $1", id
	case e.SessionID != "":
		where, key = "o.checkout_session_id = $1", e.SessionID
	case e.PaymentIntentID != "":
		where, key = "o.payment_intent_id = $1", e.PaymentIntentID
	}
	b := &pgx.Batch{}
	b.Queue(eventRecordedSQL, e.ID).QueryRow(func(row pgx.Row) error { return row.Scan(&done) })
	if key != nil {
		b.Queue(`SELECT `+orderColumns+` FROM orders o JOIN customers c ON c.id = o.customer_id WHERE `+where, key).
			QueryRow(func(row pgx.Row) error {
				var err error
				if o, err = scanOrder(row); errors.Is(err, pgx.ErrNoRows) {
					o, err = nil, nil
				}
				return err
			})
	}
	err = s.DB.SendBatch(ctx, b).Close()
	return done, o, err
}

// paid turns the hold into a sale: Redis first (idempotent per order), then
// one Postgres transaction that marks the order paid and takes the stock
// under the CHECK. A payment whose stock is gone is refunded.
func (s *Service) paid(ctx context.Context, e payments.Event, o *Order) error {
	if o.Status == StatusPaid || o.Status == StatusRefunded {
		return s.record(ctx, s.DB, e, &o.ID, "already_"+o.Status)
	}
	taken, err := s.takeStock(ctx, o)
	if err != nil {
		return err
	}
	if !taken {
		return s.refundUnstocked(ctx, e, o)
	}
	// One round trip, one implicit transaction: the stock row of a popular
	// SKU is locked only as long as that takes, not for a conversation of
	// statements. Each step runs only if the order was still unpaid.
	b := &pgx.Batch{}
	skus, quantities := lineArrays(o.Items)
	b.Queue(`WITH paid AS (
			UPDATE orders SET status = 'paid', stock_committed = true, paid_at = now(),
				payment_intent_id = COALESCE(NULLIF($2, ''), payment_intent_id), updated_at = now()
			WHERE id = $1 AND NOT stock_committed
			  AND status IN ('pending_payment', 'processing', 'expired', 'cancelled', 'payment_failed')
			RETURNING id
		), stock AS (
			UPDATE variants v SET stock_on_hand = v.stock_on_hand - l.quantity, updated_at = now()
			FROM unnest($3::text[], $4::int[]) AS l(sku, quantity), paid WHERE v.sku = l.sku
		), sold AS (
			UPDATE reservations SET state = 'committed', updated_at = now() WHERE order_id IN (SELECT id FROM paid)
		)
		INSERT INTO processed_events (stripe_event_id, type, order_id, outcome)
		VALUES ($5, $6, $1, CASE WHEN EXISTS (SELECT 1 FROM paid) THEN 'paid' ELSE 'already_settled' END)
		ON CONFLICT (stripe_event_id) DO NOTHING`,
		o.ID, e.PaymentIntentID, skus, quantities, e.ID, e.Type)
	// Queued after, and only while the order is paid: a copy that lost its
	// claim may have refunded the order meanwhile, and a confirmation must
	// never follow a refund. Already paid, it finds the one it had.
	var confirmation uuid.UUID
	if o.WaID != "" {
		if err := outbox.QueueEnqueueWhile(b, s.confirmation(o), StatusPaid, &confirmation); err != nil {
			return err
		}
	}
	err = s.DB.SendBatch(ctx, b).Close()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23514" {
		// The CHECK refused: Postgres has less stock than Redis believed.
		// Never a paid order without stock: refund it.
		s.Log.ErrorContext(ctx, "stock check refused a paid order", slog.String("order_id", o.ID.String()))
		return s.refundUnstocked(ctx, e, o)
	}
	if err != nil {
		return fmt.Errorf("mark order %s paid: %w", o.ID, err)
	}
	// Again, idempotently: a rebuild between the first commit and the
	// transaction may have restored the hold from the row that still said
	// held; this drops it without giving its units back.
	if _, err := s.Inventory.Commit(ctx, o.ID.String()); err != nil {
		s.Log.WarnContext(ctx, "drop committed hold", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
	}
	s.deliver(ctx, o, confirmation)
	return nil
}

// takeStock commits the order's hold in Redis, re-reserving it first when
// the hold is gone (a payment after the hold lapsed or the order expired).
// It reports false when the stock is no longer there.
func (s *Service) takeStock(ctx context.Context, o *Order) (bool, error) {
	out, err := s.Inventory.Commit(ctx, o.ID.String())
	if err != nil {
		return false, err
	}
	if out == inventory.Committed {
		return true, nil
	}
	now := s.Now()
	h := inventory.Hold{OrderID: o.ID.String(), ExpiresAt: now.Add(s.TTL), ReleaseAfter: now.Add(s.TTL + clockSkew)}
	for _, it := range o.Items {
		h.Lines = append(h.Lines, inventory.Line{SKU: it.SKU, Quantity: it.Quantity})
	}
	// Twice at most: a rebuild between the reserve and the commit drops the
	// new hold, as Postgres still says released. That is no reason to
	// refund a customer while the stock is there: reserve again.
	for range 2 {
		_, err = s.reserve(ctx, h)
		if errors.Is(err, inventory.ErrOutOfStock) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if out, err = s.Inventory.Commit(ctx, o.ID.String()); err != nil || out == inventory.Committed {
			return err == nil, err
		}
	}
	// Still not committed: leave it to Stripe's retry rather than refund.
	return false, fmt.Errorf("commit the re-reserved hold of order %s: %s", o.ID, out)
}

// refundUnstocked gives the money back for a payment whose stock is gone,
// with an idempotency key from the order so a retry refunds once, and tells
// the customer.
func (s *Service) refundUnstocked(ctx context.Context, e payments.Event, o *Order) error {
	if e.PaymentIntentID == "" {
		s.Log.ErrorContext(ctx, "paid order without stock has no payment intent to refund; refund it by hand",
			slog.String("order_id", o.ID.String()), slog.String("stripe_event_id", e.ID))
		return s.leaveToAPerson(ctx, e, o)
	}
	refundID, err := s.Checkout.Refund(ctx, e.PaymentIntentID, 0, "refund-out-of-stock-"+o.ID.String(),
		map[string]string{"order_id": o.ID.String(), "reason": "out_of_stock"})
	if payments.IsAlreadyRefunded(err) {
		// This refund went through on an earlier try whose record failed
		// (Stripe keeps an idempotent answer only 24 hours), or someone
		// refunded by hand: record it as refunded all the same.
		refundID, err = "", nil
	}
	if err != nil && !payments.IsTransient(err) {
		// Stripe refused for good (the charge was disputed or refunded
		// already, say): retrying for three days changes nothing.
		s.Log.ErrorContext(ctx, "stripe refused to refund a paid order without stock; refund it by hand",
			slog.String("order_id", o.ID.String()), slog.String("stripe_event_id", e.ID), slog.String("error", err.Error()))
		return s.leaveToAPerson(ctx, e, o)
	}
	if err != nil {
		return fmt.Errorf("refund order %s: %w", o.ID, err)
	}
	var notice uuid.UUID
	err = pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE orders SET status = 'refunded', refunded_minor = total_minor,
			payment_intent_id = $2, metadata = metadata || jsonb_build_object('refund_id', $3::text, 'refund_reason', 'out_of_stock'),
			updated_at = now() WHERE id = $1 AND status NOT IN ('paid', 'refunded')`, o.ID, e.PaymentIntentID, refundID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			// Another copy of the event settled the order meanwhile (its
			// claim lapsed). The money went back all the same: Stripe's
			// charge.refunded for this refund refunds a paid order like any
			// other, stock and notice included, so nothing more is said here.
			return s.record(ctx, tx, e, &o.ID, "settled_meanwhile")
		}
		if err := releaseReservations(ctx, tx, o.ID); err != nil {
			return err
		}
		if err := s.record(ctx, tx, e, &o.ID, "refunded_out_of_stock"); err != nil {
			return err
		}
		if o.WaID != "" {
			notice, err = outbox.Enqueue(ctx, tx, s.refundNotice(o))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("record refund of order %s: %w", o.ID, err)
	}
	if _, err := s.Inventory.Release(ctx, o.ID.String()); err != nil {
		s.Log.WarnContext(ctx, "release refunded order", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
	}
	s.deliver(ctx, o, notice)
	return nil
}

// leaveToAPerson records a payment without stock that the shop cannot
// refund itself. A still-pending order is cancelled, so cleanup does not
// later tell a customer who paid that their reservation lapsed, and the
// PaymentIntent is kept, so the refund a person makes finds the order and
// settles it as any refund does.
func (s *Service) leaveToAPerson(ctx context.Context, e payments.Event, o *Order) error {
	return pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE orders SET payment_intent_id = COALESCE(NULLIF($2, ''), payment_intent_id),
			updated_at = now() WHERE id = $1 AND status NOT IN ('paid', 'refunded')`, o.ID, e.PaymentIntentID); err != nil {
			return err
		}
		if _, err := cancel(ctx, tx, o.ID, "needs_manual_refund", nil); err != nil {
			return err
		}
		return s.record(ctx, tx, e, &o.ID, "needs_manual_refund")
	})
}

// delayedPaymentHold is how long a hold waits for a delayed payment method
// (a bank debit takes days) to succeed or fail.
const delayedPaymentHold = 14 * 24 * time.Hour

// processing records a delayed payment on its way and keeps the hold until
// the async event settles it: nobody else may buy stock being paid for.
func (s *Service) processing(ctx context.Context, e payments.Event, o *Order) error {
	until := s.Now().Add(delayedPaymentHold)
	if o.Status == StatusPendingPayment {
		// Redis first, as a payment commits first: once the event is
		// recorded a retry changes nothing, and a hold left with the
		// session's release_after would go back on sale while the money is
		// on its way. A hold that lapsed already stays lapsed: the async
		// success re-reserves like any late payment.
		if _, err := s.Inventory.Extend(ctx, o.ID.String(), until); err != nil {
			return fmt.Errorf("extend hold of order %s: %w", o.ID, err)
		}
	}
	var changed bool
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE orders SET status = 'processing', release_after = $2,
			payment_intent_id = COALESCE(NULLIF($3, ''), payment_intent_id), updated_at = now()
			WHERE id = $1 AND status = 'pending_payment'`, o.ID, until, e.PaymentIntentID)
		if err != nil {
			return err
		}
		if changed = tag.RowsAffected() == 1; changed {
			if _, err := tx.Exec(ctx, `UPDATE reservations SET release_after = $2, updated_at = now()
				WHERE order_id = $1 AND state = 'held'`, o.ID, until); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, e, &o.ID, map[bool]string{true: StatusProcessing, false: "ignored_" + o.Status}[changed])
	})
	return err
}

// settle moves an unpaid order forward (expired, payment_failed),
// conditionally, returning its stock when the hold ends.
func (s *Service) settle(ctx context.Context, e payments.Event, o *Order, to string, from []string, notice *outbox.Message) error {
	var changed bool
	var queued uuid.UUID
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE orders SET status = $2, updated_at = now() WHERE id = $1 AND status = ANY($3)`, o.ID, to, from)
		if err != nil {
			return err
		}
		changed = tag.RowsAffected() == 1
		if !changed {
			return s.record(ctx, tx, e, &o.ID, "ignored_"+o.Status)
		}
		if err := releaseReservations(ctx, tx, o.ID); err != nil {
			return err
		}
		if err := s.record(ctx, tx, e, &o.ID, to); err != nil {
			return err
		}
		if notice != nil && o.WaID != "" {
			queued, err = outbox.Enqueue(ctx, tx, *notice)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("order %s to %s: %w", o.ID, to, err)
	}
	if changed {
		// Postgres says released, so a rebuild agrees; if this fails the hold
		// still lapses by itself after release_after.
		if _, err := s.Inventory.Release(ctx, o.ID.String()); err != nil {
			s.Log.WarnContext(ctx, "release hold", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
		}
	}
	s.deliver(ctx, o, queued)
	return nil
}

// record marks an event applied; a second record of the same event is a
// no-op, so concurrent copies cannot both count.
func (s *Service) record(ctx context.Context, q querier, e payments.Event, orderID *uuid.UUID, outcome string) error {
	_, err := q.Exec(ctx, `INSERT INTO processed_events (stripe_event_id, type, order_id, outcome)
		VALUES ($1, $2, $3, $4) ON CONFLICT (stripe_event_id) DO NOTHING`, e.ID, e.Type, orderID, outcome)
	return err
}

func lineArrays(items []Item) ([]string, []int32) {
	skus := make([]string, len(items))
	quantities := make([]int32, len(items))
	for i, it := range items {
		skus[i], quantities[i] = it.SKU, int32(it.Quantity)
	}
	return skus, quantities
}
