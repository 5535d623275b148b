package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/payments"
)

// refunded applies charge.refunded. A full refund of a paid order marks it
// refunded and, when its stock was taken and nothing has shipped, puts the
// units back on sale; a partial refund is recorded without changing the
// status. The shop's own refunds (for payments that found no stock) took no
// stock, so they return none.
//
// A refund proves the payment succeeded, so a full refund can overtake the
// payment's own event (delivered late, or a delayed method still
// processing). The order is then refunded at once and its hold released:
// when the payment's event arrives it finds the order refunded and takes
// no stock and sends no confirmation for money already given back.
func (s *Service) refunded(ctx context.Context, e payments.Event, o *Order) error {
	full := e.ChargeAmount > 0 && e.AmountRefunded >= e.ChargeAmount
	var restock, release bool
	var queued uuid.UUID
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		if !full {
			if _, err := tx.Exec(ctx, `UPDATE orders SET refunded_minor = GREATEST(refunded_minor, LEAST($2, total_minor)),
				updated_at = now() WHERE id = $1`, o.ID, e.AmountRefunded); err != nil {
				return err
			}
			return s.record(ctx, tx, e, &o.ID, "partial_refund")
		}
		// Locked, and decided on what the row says now: a paid transition
		// committing meanwhile is seen here, or waits and then finds the
		// order refunded.
		var status, fulfillment string
		var committed bool
		if err := tx.QueryRow(ctx, `SELECT status, stock_committed, fulfillment_status FROM orders WHERE id = $1 FOR UPDATE`,
			o.ID).Scan(&status, &committed, &fulfillment); err != nil {
			return err
		}
		outcome := "refunded"
		switch {
		case status == StatusPaid:
			if _, err := tx.Exec(ctx, `UPDATE orders SET status = 'refunded', refunded_minor = total_minor, updated_at = now()
				WHERE id = $1`, o.ID); err != nil {
				return err
			}
			if restock = committed && fulfillment == "unfulfilled"; restock {
				if err := returnStock(ctx, tx, o); err != nil {
					return err
				}
			}
		case !committed && slices.Contains(refundableUnpaid, status):
			if err := refundUnpaid(ctx, tx, o, e.PaymentIntentID); err != nil {
				return err
			}
			release, outcome = true, "refunded_before_payment"
		default:
			return s.record(ctx, tx, e, &o.ID, "ignored_"+status)
		}
		if err := s.record(ctx, tx, e, &o.ID, outcome); err != nil {
			return err
		}
		var err error
		if o.WaID != "" {
			queued, err = outbox.Enqueue(ctx, tx, refundedNotice(o))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("refund order %s: %w", o.ID, err)
	}
	if restock {
		s.restock(ctx, o)
	}
	if release {
		// The session was paid, so nobody can pay for this stock any more.
		// If this fails the hold still lapses after its release_after.
		if _, err := s.Inventory.Release(ctx, o.ID.String()); err != nil {
			s.Log.WarnContext(ctx, "release refunded order", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
		}
	}
	s.deliver(ctx, o, queued)
	return nil
}

// refundableUnpaid are the statuses a payment can still arrive for (a late
// one included), so a refund of it can arrive first. A failed payment has
// nothing to refund.
var refundableUnpaid = []string{StatusPendingPayment, StatusProcessing, StatusExpired, StatusCancelled}

// refundUnpaid marks refunded a locked order whose payment's event has not
// been applied yet, and releases its reservations.
func refundUnpaid(ctx context.Context, tx pgx.Tx, o *Order, paymentIntentID string) error {
	if _, err := tx.Exec(ctx, `UPDATE orders SET status = 'refunded', refunded_minor = total_minor,
		payment_intent_id = COALESCE(NULLIF($2, ''), payment_intent_id), updated_at = now() WHERE id = $1`,
		o.ID, paymentIntentID); err != nil {
		return err
	}
	return releaseReservations(ctx, tx, o.ID)
}

// returnStock puts a refunded order's units back in Postgres and marks its
// reservations returned, which tells a rebuild they are counted.
func returnStock(ctx context.Context, tx pgx.Tx, o *Order) error {
	skus, quantities := lineArrays(o.Items)
	if _, err := tx.Exec(ctx, `UPDATE variants v SET stock_on_hand = v.stock_on_hand + l.quantity, updated_at = now()
		FROM unnest($1::text[], $2::int[]) AS l(sku, quantity) WHERE v.sku = l.sku`, skus, quantities); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE reservations SET state = 'returned', updated_at = now()
		WHERE order_id = $1 AND state = 'committed'`, o.ID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE orders SET stock_committed = false WHERE id = $1`, o.ID)
	return err
}

// restock puts the units back on sale in Redis, waiting out a rebuild. If
// Redis stays unreachable, availability undercounts (it never oversells)
// until cleanup reconciles it with Postgres.
func (s *Service) restock(ctx context.Context, o *Order) {
	lines := make([]inventory.Line, len(o.Items))
	for i, it := range o.Items {
		lines[i] = inventory.Line{SKU: it.SKU, Quantity: it.Quantity}
	}
	deadline := time.Now().Add(rebuildWait)
	for wait := 10 * time.Millisecond; ; wait *= 2 {
		_, err := s.Inventory.Restock(ctx, o.ID.String(), lines)
		if err == nil {
			return
		}
		if !errors.Is(err, inventory.ErrRebuilding) || time.Now().Add(wait).After(deadline) {
			s.Log.WarnContext(ctx, "restock refunded order", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
