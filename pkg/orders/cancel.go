package orders

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CancelUnpaid cancels the customer's unpaid orders, as a new order would:
// each Checkout session is expired first, so nobody can pay for stock that
// is going back. It returns the orders it found unpaid (none is no error)
// and ErrPreviousOrderPaying when a payment is already under way. A retry
// after an ErrUnavailable finishes the job.
func (s *Service) CancelUnpaid(ctx context.Context, waID string) ([]*Order, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+orderColumns+` FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE c.wa_id = $1 AND o.status = 'pending_payment'`, waID)
	if err != nil {
		return nil, unavailable("find unpaid orders", err)
	}
	unpaid, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Order, error) { return scanOrder(r) })
	if err != nil {
		return nil, unavailable("find unpaid orders", err)
	}
	return unpaid, s.cancelPrevious(ctx, unpaid)
}
