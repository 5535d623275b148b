package orders

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wa-shop/shop/pkg/outbox"
)

// IdentityChange is a customer's new WhatsApp address, from a system
// message: user_changed_number gives the old number (the message's from)
// and the new one; both kinds give the old and new BSUID when Meta has them.
type IdentityChange struct {
	OldWaID, NewWaID     string
	OldUserID, NewUserID string
}

// ChangeIdentity follows a customer to their new address, so their orders
// stay theirs when they write from it, and messages still queued for the old
// address go to the new one. Customers known only by a BSUID are addressed
// by it (their wa_id holds it), so a new BSUID moves them the way a new
// number does. Applying the same change twice changes nothing.
//
// A customer has one unpaid order at most, so when both addresses had one,
// the old address's is cancelled (its session expired first, as a new order
// does) and then moves too: left behind, a payment for it would be
// confirmed to a number the customer gave up. If that one is being paid
// already, it stays behind until its payment settles it.
func (s *Service) ChangeIdentity(ctx context.Context, ch IdentityChange) error {
	if err := s.moveIdentity(ctx, ch); err != nil {
		return err
	}
	behind, err := s.unpaidAt(ctx, ch.OldWaID, ch.OldUserID)
	if err != nil || len(behind) == 0 {
		return err
	}
	if err := s.cancelPrevious(ctx, behind); err != nil && !errors.Is(err, ErrPreviousOrderPaying) {
		return err
	}
	return s.moveIdentity(ctx, ch)
}

// unpaidAt finds the unpaid orders of the customers still addressed by an
// old address after a move: those that could not follow.
func (s *Service) unpaidAt(ctx context.Context, waID, userID string) ([]*Order, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+orderColumns+` FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE c.wa_id = ANY($1) AND o.status = 'pending_payment'`, []string{waID, userID})
	if err != nil {
		return nil, unavailable("find orders left behind", err)
	}
	left, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Order, error) { return scanOrder(r) })
	if err != nil {
		return nil, unavailable("find orders left behind", err)
	}
	return left, nil
}

func (s *Service) moveIdentity(ctx context.Context, ch IdentityChange) error {
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		var moved []string // as text: the pool's exec mode cannot encode []uuid.UUID
		for _, m := range [][2]string{{ch.OldWaID, ch.NewWaID}, {ch.OldUserID, ch.NewUserID}} {
			if m[0] == "" || m[1] == "" || m[0] == m[1] {
				continue
			}
			id, err := moveCustomer(ctx, tx, m[0], m[1])
			if err != nil {
				return err
			}
			if id == uuid.Nil {
				continue // nobody is addressed by the old one
			}
			moved = append(moved, id.String())
			if _, err := outbox.Reroute(ctx, tx, m[0], m[1]); err != nil {
				return err
			}
		}
		if ch.NewUserID == "" {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE customers SET user_id = $1, updated_at = now()
			WHERE (id = ANY($2::uuid[]) OR (user_id = $3 AND $3 <> '')) AND user_id IS DISTINCT FROM $1`,
			ch.NewUserID, moved, ch.OldUserID)
		return err
	})
	if err != nil {
		return fmt.Errorf("change customer identity: %w", err)
	}
	return nil
}

// moveCustomer gives the customer addressed as from the address to and
// returns their row, or uuid.Nil when no customer had that address. When
// the customer already wrote from the new address (their notice and first
// message can arrive together), that row takes over their orders, except
// an unpaid one when it has its own: a customer has one unpaid order at
// most, so that one stays behind for ChangeIdentity to cancel.
func moveCustomer(ctx context.Context, tx pgx.Tx, from, to string) (uuid.UUID, error) {
	var oldID, newID uuid.UUID
	err := tx.QueryRow(ctx, `SELECT id FROM customers WHERE wa_id = $1 FOR UPDATE`, from).Scan(&oldID)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, nil
	}
	if err != nil {
		return uuid.Nil, err
	}
	err = tx.QueryRow(ctx, `SELECT id FROM customers WHERE wa_id = $1 FOR UPDATE`, to).Scan(&newID)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = tx.Exec(ctx, `UPDATE customers SET wa_id = $2, updated_at = now() WHERE id = $1`, oldID, to)
		return oldID, err
	}
	if err != nil {
		return uuid.Nil, err
	}
	_, err = tx.Exec(ctx, `UPDATE orders SET customer_id = $2, updated_at = now()
		WHERE customer_id = $1 AND (status <> 'pending_payment'
			OR NOT EXISTS (SELECT 1 FROM orders WHERE customer_id = $2 AND status = 'pending_payment'))`, oldID, newID)
	return newID, err
}
