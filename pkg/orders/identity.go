package orders

import (
	"context"
	"fmt"

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

// ChangeIdentity follows a customer to their new address. Their row takes
// it, so their unpaid order and history stay theirs when they write from
// it, and messages still queued for the old address go to the new one.
// Customers known only by a BSUID are addressed by it (their wa_id holds
// it), so a new BSUID moves them the way a new number does. Applying the
// same change twice changes nothing.
func (s *Service) ChangeIdentity(ctx context.Context, ch IdentityChange) error {
	var moves [][2]string
	for _, m := range [][2]string{{ch.OldWaID, ch.NewWaID}, {ch.OldUserID, ch.NewUserID}} {
		if m[0] != "" && m[1] != "" && m[0] != m[1] {
			moves = append(moves, m)
		}
	}
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		for _, m := range moves {
			// If the customer already wrote from the new address, that row
			// stays theirs too: the BSUID set below ties the two together.
			if _, err := tx.Exec(ctx, `UPDATE customers SET wa_id = $2, updated_at = now()
				WHERE wa_id = $1 AND NOT EXISTS (SELECT 1 FROM customers WHERE wa_id = $2)`, m[0], m[1]); err != nil {
				return err
			}
			if _, err := outbox.Reroute(ctx, tx, m[0], m[1]); err != nil {
				return err
			}
		}
		if ch.NewUserID == "" {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE customers SET user_id = $1, updated_at = now()
			WHERE ((user_id = $2 AND $2 <> '') OR wa_id = ANY($3)) AND user_id IS DISTINCT FROM $1`,
			ch.NewUserID, ch.OldUserID, []string{ch.NewWaID, ch.OldWaID, ch.NewUserID})
		return err
	})
	if err != nil {
		return fmt.Errorf("change customer identity: %w", err)
	}
	return nil
}
