package outbox

import (
	"context"
	"fmt"
)

// Reroute addresses the messages still waiting for from to to instead, in
// the caller's transaction: a customer who changed their phone number (or
// whose BSUID changed) no longer reads the old address. Messages already
// handed to Meta stay as they were sent.
func Reroute(ctx context.Context, q Querier, from, to string) (moved int, err error) {
	err = q.QueryRow(ctx, `
		WITH moved AS (
			UPDATE outbox SET recipient = $2, updated_at = now()
			WHERE recipient = $1 AND status = 'pending'
			RETURNING 1
		)
		SELECT count(*) FROM moved`, from, to).Scan(&moved)
	if err != nil {
		return 0, fmt.Errorf("reroute messages to a new address: %w", err)
	}
	return moved, nil
}
