package orders

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CancelUnpaid cancels the customer's unpaid orders, as a new order would:
// each Checkout session is expired first, so nobody can pay for stock that
// is going back. c names the customer by WaID (a phone number or a BSUID)
// and, when known, UserID. It returns the orders it found unpaid (none is
// no error) and ErrPreviousOrderPaying when a payment is already under way.
// A retry after an ErrUnavailable finishes the job.
func (s *Service) CancelUnpaid(ctx context.Context, c Customer) ([]*Order, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+orderColumns+` FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE `+samePerson+` AND o.status = 'pending_payment'`, c.WaID, c.UserID)
	if err != nil {
		return nil, unavailable("find unpaid orders", err)
	}
	unpaid, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Order, error) { return scanOrder(r) })
	if err != nil {
		return nil, unavailable("find unpaid orders", err)
	}
	return unpaid, s.cancelPrevious(ctx, unpaid)
}
