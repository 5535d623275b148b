// Package outbox keeps DESIGN invariant 5: nothing the customer should
// receive is lost.
//
// A state change that owes the customer a message writes it here with
// Enqueue, inside the same Postgres transaction, so the change and the
// message commit or roll back together. After commit, whoever holds the
// row's lease sends it (Outbox.Deliver); the cleanup run retries what is
// still due (Outbox.RetryDue) with exponential backoff, honouring the Graph
// API's rate-limit errors; Meta's status webhooks move the row forward
// (Outbox.UpdateStatus).
//
// The lease is one conditional UPDATE, not a transaction: no transaction or
// row lock is held across the HTTP call, so a slow Graph API cannot pin
// database connections, and a sender that dies leaves a lease that simply
// expires. Every lease take increments attempts, and a failed send is
// recorded only while attempts still has the value the take returned, so
// attempts doubles as the lease's fencing token: a sender whose lease ran
// out cannot reschedule or fail a row someone else now holds. A success is
// recorded whoever holds the row, because it is a fact and it ends the
// retries.
//
// The unavoidable window: the Graph API has no idempotency key. If the
// process dies (or Postgres is unreachable) after Meta accepted a send and
// before the row says `sent`, the lease expires and the message is sent
// again. The window is kept small: the result is recorded right after the
// answer, on a context detached from the caller's cancellation, and
// RetryDue does not start a send it has no time left to record. The outbox
// id travels in biz_opaque_callback_data, so a duplicate can at least be
// recognised in Meta's status webhooks.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Row statuses, as the outbox table stores them. Meta's status webhooks use
// the same words for sent, delivered, read and failed.
const (
	StatusPending   = "pending"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
	// StatusWithdrawn is a message no longer owed: its order moved on
	// before it could be sent (see QueueEnqueueWhile).
	StatusWithdrawn = "withdrawn"
)

// Message is one message the customer must receive.
type Message struct {
	// OrderID ties the message to an order; with Kind it makes the message
	// unique, so a retried transition cannot queue it twice. Nil for
	// replies that belong to no order (those are never deduplicated).
	OrderID *uuid.UUID
	// Kind names what the message is for, e.g. "order_confirmation".
	Kind string
	// Recipient is the customer's wa_id.
	Recipient string
	// Payload is the Graph API message body without the envelope: the
	// fields that say what to send ("type" and its object, e.g.
	// {"type":"text","text":{"body":"…"}}), never messaging_product,
	// recipient_type, to or biz_opaque_callback_data. The sender adds the
	// envelope, so the recipient lives in one place (the recipient column)
	// and the body survives a change of transport. whatsapp.Text and
	// whatsapp.Template build it.
	Payload json.RawMessage
	// Fallback, when set, is a template payload sent instead if the
	// provider refuses Payload because the customer's window has closed
	// (a *WindowClosedError). Without one, that refusal fails the row.
	Fallback json.RawMessage
}

// Querier is what Enqueue needs. pgx.Tx satisfies it, which is the point:
// the message commits with the state change that owes it. A *pgxpool.Pool
// also does, for a reply that follows no state change.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Enqueue writes m in the caller's transaction and returns its id. When the
// order already has a message of this kind, it writes nothing and returns
// the existing id, so a retried transition is a no-op.
//
// The row is due at once (attempts = 0 rows are due regardless of the
// clock), so the caller can Deliver it right after commit.
func Enqueue(ctx context.Context, q Querier, m Message) (uuid.UUID, error) {
	if err := m.validate(); err != nil {
		return uuid.Nil, err
	}
	var id uuid.UUID
	// The payload goes as text with a cast: sent as bytes it would be
	// taken for bytea under the pool's exec query mode.
	err := q.QueryRow(ctx, `
		INSERT INTO outbox (order_id, kind, recipient, payload, fallback)
		VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)
		ON CONFLICT (order_id, kind) WHERE order_id IS NOT NULL DO NOTHING
		RETURNING id`,
		m.OrderID, m.Kind, m.Recipient, string(m.Payload), m.fallback()).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, fmt.Errorf("enqueue %s: %w", m.Kind, err)
	}
	// A conflict. This is a second statement on purpose: under READ
	// COMMITTED it takes a fresh snapshot, so it sees a row that a
	// concurrent transaction committed while the INSERT waited for it,
	// which a CTE in the same statement would not.
	err = q.QueryRow(ctx, `SELECT id FROM outbox WHERE order_id = $1 AND kind = $2`,
		m.OrderID, m.Kind).Scan(&id)
	if err != nil {
		return uuid.Nil, fmt.Errorf("enqueue %s: find existing message: %w", m.Kind, err)
	}
	return id, nil
}

func (m Message) validate() error {
	switch {
	case m.Kind == "":
		return errors.New("enqueue: kind is required")
	case m.Recipient == "":
		return fmt.Errorf("enqueue %s: recipient is required", m.Kind)
	case !json.Valid(m.Payload):
		return fmt.Errorf("enqueue %s: payload is not JSON", m.Kind)
	case m.Fallback != nil && !json.Valid(m.Fallback):
		return fmt.Errorf("enqueue %s: fallback is not JSON", m.Kind)
	}
	return nil
}

// fallback is the column's value: NULL without one.
func (m Message) fallback() *string {
	if len(m.Fallback) == 0 {
		return nil
	}
	s := string(m.Fallback)
	return &s
}

// QueueEnqueue adds m to a batch the caller sends as one implicit
// transaction with the state change that owes it: one statement instead of
// a transaction of its own. After the batch is sent, *id holds the
// message's id: the row inserted, or the one already there; uuid.Nil when
// a concurrent transaction queued it first, and so sends it. It is for
// order messages only: without an order, a row cannot be found again.
func QueueEnqueue(b *pgx.Batch, m Message, id *uuid.UUID) error {
	return queueEnqueue(b, m, "", id)
}

// QueueEnqueueWhile is QueueEnqueue for a message owed only while its order
// has orderStatus: queued after a conditional update in the same batch, it
// is queued only if that update took (the update holds the order's row lock
// until the batch commits), and it is sent only if the order still has that
// status when a sender takes it (a retry may come after the order moved
// on). *id is uuid.Nil unless the message was queued or the order already
// had one.
func QueueEnqueueWhile(b *pgx.Batch, m Message, orderStatus string, id *uuid.UUID) error {
	if orderStatus == "" {
		return fmt.Errorf("enqueue %s: an order status is required", m.Kind)
	}
	return queueEnqueue(b, m, orderStatus, id)
}

func queueEnqueue(b *pgx.Batch, m Message, orderStatus string, id *uuid.UUID) error {
	if err := m.validate(); err != nil {
		return err
	}
	if m.OrderID == nil {
		return fmt.Errorf("enqueue %s in a batch: an order is required", m.Kind)
	}
	source := `VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, NULL)`
	args := []any{m.OrderID, m.Kind, m.Recipient, string(m.Payload), m.fallback()}
	if orderStatus != "" {
		source = `SELECT $1, $2, $3, $4::jsonb, $5::jsonb, $6
			WHERE EXISTS (SELECT 1 FROM orders WHERE id = $1 AND status = $6)`
		args = append(args, orderStatus)
	}
	b.Queue(`
		WITH queued AS (
			INSERT INTO outbox (order_id, kind, recipient, payload, fallback, owed_while)
			`+source+`
			ON CONFLICT (order_id, kind) WHERE order_id IS NOT NULL DO NOTHING
			RETURNING id
		)
		SELECT id FROM queued
		UNION ALL
		SELECT id FROM outbox WHERE order_id = $1 AND kind = $2
		LIMIT 1`, args...).
		QueryRow(func(row pgx.Row) error {
			err := row.Scan(id)
			if errors.Is(err, pgx.ErrNoRows) {
				*id, err = uuid.Nil, nil
			}
			return err
		})
	return nil
}
