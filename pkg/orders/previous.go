package orders

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/wa-shop/shop/pkg/payments"
)

// cancelPrevious keeps one unpaid order per customer: a new order cancels
// the previous one, expiring its Checkout session first so nobody can pay
// for stock that is about to go back.
func (s *Service) cancelPrevious(ctx context.Context, previous []*Order) error {
	for _, o := range previous {
		changed, err := s.cancelReplaced(ctx, o)
		if err != nil {
			return err
		}
		if !changed {
			continue
		}
		if _, err := s.Inventory.Release(ctx, o.ID.String()); err != nil {
			// Postgres says released, so a rebuild will agree; until then the
			// hold lapses by itself after its release_after.
			s.Log.WarnContext(ctx, "release previous order", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
		}
		s.Log.InfoContext(ctx, "previous order cancelled", slog.String("order_id", o.ID.String()))
	}
	return nil
}

// cancelReplaced expires the order's session and cancels the order, only if
// no other session appeared meanwhile: the order's own request may store
// one (and queue its link) after o was read. That one is expired first, and
// the cancel tried again. An order gets one session, so twice is enough.
func (s *Service) cancelReplaced(ctx context.Context, o *Order) (changed bool, err error) {
	expired := o.CheckoutID
	for range 2 {
		if expired != "" {
			session, err := s.Checkout.ExpireSession(ctx, expired)
			if err != nil {
				return false, unavailable("expire previous session", err)
			}
			if session.Status == payments.StatusComplete {
				// Paid already: the payment event will settle it.
				return false, ErrPreviousOrderPaying
			}
		}
		var current string
		err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
			err := tx.QueryRow(ctx, `SELECT COALESCE(checkout_session_id, '') FROM orders
				WHERE id = $1 AND status = 'pending_payment' FOR UPDATE`, o.ID).Scan(&current)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && current != expired) {
				return nil // settled meanwhile, or a session to expire first
			}
			if err == nil {
				changed, err = cancel(ctx, tx, o.ID, "replaced", nil)
			}
			return err
		})
		if err != nil {
			return false, unavailable("cancel previous order", err)
		}
		if changed || current == "" || current == expired {
			return changed, nil
		}
		expired = current
	}
	return false, unavailable("cancel previous order", errors.New("its session keeps changing"))
}

func sessionRequest(o *Order) payments.SessionRequest {
	req := payments.SessionRequest{OrderID: o.ID, Currency: o.Currency, ExpiresAt: o.CheckoutExpiry}
	for _, it := range o.Items {
		req.Lines = append(req.Lines, payments.Line{Name: it.Title, UnitAmount: it.UnitPriceMinor, Quantity: int64(it.Quantity)})
	}
	return req
}
