package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// fallbackSuffix marks the row that carries a failed message's template
// fallback: its own kind, so one per order and kind holds for it too.
const fallbackSuffix = ":template"

// SendFallback answers Meta's report that a message it had accepted failed
// because the customer's 24-hour window was closed (Meta tells this only in
// a failed status, not in the send's answer). The failed row's template
// fallback becomes a row of its own and is sent at once; if that send
// fails, cleanup's retry sends it. A row without a fallback, or one whose
// fallback was taken already (a repeated status), does nothing.
func (o *Outbox) SendFallback(ctx context.Context, providerMessageID string) error {
	// The fallback is moved, under the row's lock, so a repeated status
	// cannot queue it twice (rows without an order have no unique kind).
	var id uuid.UUID
	err := o.DB.QueryRow(ctx, `
		WITH old AS (
			SELECT id, fallback FROM outbox
			WHERE provider_message_id = $1 AND status = 'failed' AND fallback IS NOT NULL
			FOR UPDATE
		), taken AS (
			UPDATE outbox o SET fallback = NULL, updated_at = $2::timestamptz FROM old WHERE o.id = old.id
			RETURNING o.order_id, o.kind, o.recipient, old.fallback, o.owed_while
		)
		INSERT INTO outbox (order_id, kind, recipient, payload, owed_while)
		SELECT order_id, kind || $3, recipient, fallback, owed_while FROM taken
		ON CONFLICT (order_id, kind) WHERE order_id IS NOT NULL DO NOTHING
		RETURNING id`, providerMessageID, o.now(), fallbackSuffix).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("queue the template fallback of %s: %w", providerMessageID, err)
	}
	o.log().InfoContext(ctx, "message failed outside the customer's window; sending its template fallback",
		slog.String("wa_message_id", providerMessageID), slog.String("outbox_id", id.String()))
	if _, err := o.Deliver(ctx, id); err != nil {
		o.log().WarnContext(ctx, "send template fallback", slog.String("outbox_id", id.String()), slog.String("error", err.Error()))
	}
	return nil
}
