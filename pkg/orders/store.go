package orders

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what both a pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const orderColumns = `o.id, o.customer_id, c.wa_id, o.request_key, o.status, o.items, o.currency,
	o.total_minor, o.hold_expires_at, o.release_after, COALESCE(o.checkout_session_id, ''),
	COALESCE(o.checkout_url, ''), COALESCE(o.checkout_expires_at, o.release_after),
	COALESCE(o.metadata->'shortages', '[]'), COALESCE(o.metadata->>'request_hash', '')`

func scanOrder(row pgx.Row) (*Order, error) {
	var o Order
	var items, shortages []byte
	err := row.Scan(&o.ID, &o.CustomerID, &o.WaID, &o.Key, &o.Status, &items, &o.Currency,
		&o.TotalMinor, &o.HoldExpiresAt, &o.ReleaseAfter, &o.CheckoutID,
		&o.CheckoutURL, &o.CheckoutExpiry, &shortages, &o.RequestHash)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(items, &o.Items); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(shortages, &o.Shortages); err != nil {
		return nil, err
	}
	return &o, nil
}

// findByKey returns the order made for a request key, or nil.
func findByKey(ctx context.Context, q querier, key string) (*Order, error) {
	o, err := scanOrder(q.QueryRow(ctx, `SELECT `+orderColumns+`
		FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.request_key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return o, err
}

// Get reads one order.
func get(ctx context.Context, q querier, id uuid.UUID) (*Order, error) {
	return scanOrder(q.QueryRow(ctx, `SELECT `+orderColumns+`
		FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1`, id))
}

// upsertCustomer keys customers by wa_id; shop-front orders without one get
// a customer keyed by the request.
func upsertCustomer(ctx context.Context, q querier, c Customer, key string) (uuid.UUID, error) {
	waID := c.WaID
	if waID == "" {
		waID = "guest:" + key
	}
	var id uuid.UUID
	err := q.QueryRow(ctx, `
		INSERT INTO customers (wa_id, user_id, profile_name) VALUES ($1, NULLIF($2, ''), $3)
		ON CONFLICT (wa_id) DO UPDATE SET
			user_id = COALESCE(EXCLUDED.user_id, customers.user_id),
			profile_name = CASE WHEN EXCLUDED.profile_name <> '' THEN EXCLUDED.profile_name ELSE customers.profile_name END,
			updated_at = now()
		RETURNING id`, waID, c.UserID, c.Name).Scan(&id)
	return id, err
}

// unpaidOrders lists the customer's orders awaiting payment, except the one
// for key.
func unpaidOrders(ctx context.Context, q querier, waID, key string) ([]*Order, error) {
	rows, err := q.Query(ctx, `SELECT `+orderColumns+`
		FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE c.wa_id = $1 AND o.status = 'pending_payment' AND o.request_key <> $2`, waID, key)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Order, error) { return scanOrder(r) })
}

// insertOrder writes the provisional order and its reservations, 'pending'
// until Redis confirms the hold.
func insertOrder(ctx context.Context, tx pgx.Tx, o *Order) error {
	items, err := json.Marshal(o.Items)
	if err != nil {
		return err
	}
	// JSON goes as text: under the exec query mode pgx would send []byte as
	// bytea, which jsonb refuses.
	meta, _ := json.Marshal(map[string]string{"request_hash": o.RequestHash})
	if _, err := tx.Exec(ctx, `
		INSERT INTO orders (id, customer_id, request_key, status, items, currency, total_minor,
		                    hold_expires_at, release_after, checkout_expires_at, metadata)
		VALUES ($1, $2, $3, 'pending_payment', $4, $5, $6, $7, $8, $9, $10)`,
		o.ID, o.CustomerID, o.Key, string(items), o.Currency, o.TotalMinor,
		o.HoldExpiresAt, o.ReleaseAfter, o.CheckoutExpiry, string(meta)); err != nil {
		return err
	}
	for _, it := range o.Items {
		if _, err := tx.Exec(ctx, `
			INSERT INTO reservations (order_id, sku, quantity, expires_at, release_after, state)
			VALUES ($1, $2, $3, $4, $5, 'pending')`,
			o.ID, it.SKU, it.Quantity, o.HoldExpiresAt, o.ReleaseAfter); err != nil {
			return err
		}
	}
	return nil
}

// markHeld records that Redis holds the order's stock.
func markHeld(ctx context.Context, q querier, id uuid.UUID) error {
	_, err := q.Exec(ctx, `UPDATE reservations SET state = 'held', updated_at = now()
		WHERE order_id = $1 AND state = 'pending'`, id)
	return err
}

// attachSession stores the Checkout session once; a concurrent attach of
// the same (idempotent) session changes nothing.
func attachSession(ctx context.Context, tx pgx.Tx, id uuid.UUID, sessionID, url string, expires time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE orders SET checkout_session_id = $2, checkout_url = $3,
		checkout_expires_at = $4, updated_at = now()
		WHERE id = $1 AND checkout_session_id IS NULL`, id, sessionID, url, expires)
	return err
}

// cancel moves a pending order to cancelled and gives up its reservations,
// in one transaction; reason and shortages are kept for replies to retries.
// It reports whether this call made the change.
func cancel(ctx context.Context, tx pgx.Tx, id uuid.UUID, reason string, shortages []Shortage) (bool, error) {
	meta, _ := json.Marshal(map[string]any{"cancel_reason": reason, "shortages": shortages})
	tag, err := tx.Exec(ctx, `UPDATE orders SET status = 'cancelled', metadata = metadata || $2, updated_at = now()
		WHERE id = $1 AND status = 'pending_payment'`, id, string(meta))
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	_, err = tx.Exec(ctx, `UPDATE reservations SET state = 'released', updated_at = now()
		WHERE order_id = $1 AND state IN ('pending', 'held')`, id)
	return err == nil, err
}
