package outbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// movesFrom lists, for each status Meta reports, the statuses a row may
// leave for it. Statuses only move forward (sent < delivered < read), and
// failed only overtakes a message not yet delivered. Meta sends statuses at
// least once and out of order, and skips delivered when a message is read
// at once, so anything not listed here is a duplicate or a latecomer and
// changes nothing.
var movesFrom = map[string][]string{
	StatusSent:      {StatusPending},
	StatusDelivered: {StatusPending, StatusSent},
	StatusRead:      {StatusPending, StatusSent, StatusDelivered},
	StatusFailed:    {StatusPending, StatusSent},
}

// UpdateStatus applies one status from Meta's webhook to the message Meta
// knows as providerMessageID (the wamid). errorReason is kept as last_error
// when the status is failed (the error's code and title, say) and ignored
// otherwise.
//
// outboxID is the status's biz_opaque_callback_data, the row's id as the
// sender passed it. It matters when the status overtakes the record of the
// send (Meta can answer the webhook before our UPDATE lands, and a crash or
// a Postgres outage can lose that UPDATE): the row is then found by its id,
// takes the wamid and moves on, so it is not sent again.
//
// A status that would move the row backwards, a duplicate, or one for a
// failed row is a no-op and returns nil. A status word the outbox does not
// track returns ErrUnknownStatus; a wamid no row has returns
// ErrUnknownMessage. Neither is worth a webhook retry: the caller logs them
// and acknowledges.
func (o *Outbox) UpdateStatus(ctx context.Context, providerMessageID, outboxID, status, errorReason string) error {
	from, ok := movesFrom[status]
	if !ok {
		return fmt.Errorf("status %q for %s: %w", status, providerMessageID, ErrUnknownStatus)
	}
	if status == StatusFailed && errorReason == "" {
		errorReason = "failed (Meta gave no reason)"
	}
	var (
		id      uuid.UUID
		orderID *uuid.UUID
		kind    string
	)
	err := o.DB.QueryRow(ctx, `
		UPDATE outbox
		SET status = $2::text,
		    last_error = CASE WHEN $2::text = 'failed' THEN $3 ELSE last_error END,
		    updated_at = $4::timestamptz
		WHERE provider_message_id = $1 AND status = ANY($5::text[])
		RETURNING id, order_id, kind`,
		providerMessageID, status, truncate(errorReason), o.now(), from).Scan(&id, &orderID, &kind)
	if errors.Is(err, pgx.ErrNoRows) {
		var adopted bool
		if adopted, err = o.adopt(ctx, providerMessageID, outboxID, status, errorReason, from); err != nil || !adopted {
			return cmp.Or(err, o.noChange(ctx, providerMessageID))
		}
	}
	if err != nil {
		return fmt.Errorf("update status of %s to %s: %w", providerMessageID, status, err)
	}
	if status == StatusFailed {
		// The customer did not get it after all (Meta reports some failures,
		// such as an expired customer-service window, only this way).
		attrs := []any{slog.String("outbox_id", id.String()), slog.String("kind", kind),
			slog.String("wa_message_id", providerMessageID), slog.String("error", errorReason)}
		if orderID != nil {
			attrs = append(attrs, slog.String("order_id", orderID.String()))
		}
		o.log().ErrorContext(ctx, "outbox message failed after send", attrs...)
	}
	return nil
}

// adopt applies a status to the row whose send is not recorded yet, found
// by the id it carried, and records the wamid with it.
func (o *Outbox) adopt(ctx context.Context, providerMessageID, outboxID, status, errorReason string, from []string) (bool, error) {
	id, err := uuid.Parse(outboxID)
	if err != nil || providerMessageID == "" {
		return false, nil
	}
	tag, err := o.DB.Exec(ctx, `
		UPDATE outbox
		SET status = $3::text, provider_message_id = $2, lease_until = NULL,
		    sent_at = CASE WHEN $3::text = 'failed' THEN sent_at ELSE COALESCE(sent_at, $5::timestamptz) END,
		    last_error = CASE WHEN $3::text = 'failed' THEN $4 ELSE last_error END,
		    updated_at = $5::timestamptz
		WHERE id = $1 AND provider_message_id IS NULL AND status = ANY($6::text[])`,
		id, providerMessageID, status, truncate(errorReason), o.now(), from)
	if err != nil {
		return false, fmt.Errorf("update status of outbox %s to %s: %w", id, status, err)
	}
	if tag.RowsAffected() == 1 {
		o.log().InfoContext(ctx, "outbox status arrived before the send was recorded", slog.String("outbox_id", id.String()),
			slog.String("wa_message_id", providerMessageID), slog.String("status", status))
	}
	return tag.RowsAffected() == 1, nil
}

// noChange tells a late or duplicate status (nil) from one for a message we
// never recorded (ErrUnknownMessage).
func (o *Outbox) noChange(ctx context.Context, providerMessageID string) error {
	var known bool
	err := o.DB.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE provider_message_id = $1)`,
		providerMessageID).Scan(&known)
	switch {
	case err != nil:
		return fmt.Errorf("look up %s: %w", providerMessageID, err)
	case !known:
		return fmt.Errorf("status for %s: %w", providerMessageID, ErrUnknownMessage)
	}
	return nil
}
