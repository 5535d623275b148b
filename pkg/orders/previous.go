package orders

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/wa-shop/shop/pkg/payments"
)

// cancelPrevious keeps one unpaid order per customer: a new order cancels
// the previous one, expiring its Checkout session first so nobody can pay
// for stock that is about to go back.
func (s *Service) cancelPrevious(ctx context.Context, previous []*Order) error {
	for _, o := range previous {
		if o.CheckoutID != "" {
			session, err := s.Checkout.ExpireSession(ctx, o.CheckoutID)
			if err != nil {
				return unavailable("expire previous session", err)
			}
			if session.Status == payments.StatusComplete {
				// Paid already: the payment event will settle it.
				return ErrPreviousOrderPaying
			}
		}
		var changed bool
		err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
			var err error
			changed, err = cancel(ctx, tx, o.ID, "replaced", nil)
			return err
		})
		if err != nil {
			return unavailable("cancel previous order", err)
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

func sessionRequest(o *Order) payments.SessionRequest {
	req := payments.SessionRequest{OrderID: o.ID, Currency: o.Currency, ExpiresAt: o.CheckoutExpiry}
	for _, it := range o.Items {
		req.Lines = append(req.Lines, payments.Line{Name: it.Title, UnitAmount: it.UnitPriceMinor, Quantity: int64(it.Quantity)})
	}
	return req
}
