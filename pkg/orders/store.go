package orders

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// querier is what both a pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const orderColumns = `o.id, o.customer_id, c.wa_id, c.profile_name, o.request_key, o.status, o.items, o.currency,
	o.total_minor, o.hold_expires_at, o.release_after, COALESCE(o.checkout_session_id, ''),
	COALESCE(o.checkout_url, ''), COALESCE(o.checkout_expires_at, o.release_after),
	COALESCE(o.metadata->'shortages', '[]'), COALESCE(o.metadata->>'request_hash', ''),
	COALESCE(o.metadata->>'cancel_reason', '')`

func scanOrder(row pgx.Row) (*Order, error) {
	var o Order
	var items, shortages []byte
	err := row.Scan(&o.ID, &o.CustomerID, &o.WaID, &o.CustomerName, &o.Key, &o.Status, &items, &o.Currency,
		&o.TotalMinor, &o.HoldExpiresAt, &o.ReleaseAfter, &o.CheckoutID,
		&o.CheckoutURL, &o.CheckoutExpiry, &shortages, &o.RequestHash, &o.CancelReason)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(o.WaID, guestPrefix) {
		o.WaID = "" // a shop-front customer: nobody to message on WhatsApp
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

// lookup is what Create reads before writing, fetched in one round trip.
type lookup struct {
	existing *Order                  // the order this request key already made
	prices   map[string]catalogPrice // by SKU
	previous []*Order                // the customer's other unpaid orders
}

func look(ctx context.Context, db *pgxpool.Pool, key string, lines []Line, c Customer) (*lookup, error) {
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
	}
	var l lookup
	b := &pgx.Batch{}
	b.Queue(`SELECT `+orderColumns+` FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE o.request_key = $1`, key).QueryRow(func(row pgx.Row) error {
		o, err := scanOrder(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		l.existing = o
		return err
	})
	b.Queue(pricesSQL, skus).Query(func(rows pgx.Rows) error {
		var err error
		l.prices, err = scanPrices(rows)
		return err
	})
	if c.WaID != "" {
		b.Queue(`SELECT `+orderColumns+` FROM orders o JOIN customers c ON c.id = o.customer_id
			WHERE `+samePerson+` AND o.status = 'pending_payment' AND o.request_key <> $3`, c.WaID, c.UserID, key).
			Query(func(rows pgx.Rows) error {
				var err error
				l.previous, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Order, error) { return scanOrder(r) })
				return err
			})
	}
	return &l, db.SendBatch(ctx, b).Close()
}

// samePerson matches the customer rows of one WhatsApp user, $1 being how
// they are addressed (phone number, or BSUID when Meta shares none) and $2
// their BSUID when known: a user whose phone number Meta starts (or stops)
// sharing has a row under each, and still has one unpaid order at most.
const samePerson = `(c.wa_id = $1 OR ($2 <> '' AND (c.wa_id = $2 OR c.user_id = $2)) OR c.user_id = $1)`

// insertOrder writes the customer, the provisional order and its
// reservations ('pending' until Redis confirms the hold) in one statement:
// one round trip, one implicit transaction.
func insertOrder(ctx context.Context, q querier, o *Order, c Customer) error {
	items, err := json.Marshal(o.Items)
	if err != nil {
		return err
	}
	// JSON goes as text: under the exec query mode pgx would send []byte as
	// bytea, which jsonb refuses.
	meta, _ := json.Marshal(map[string]string{"request_hash": o.RequestHash})
	skus := make([]string, len(o.Items))
	quantities := make([]int32, len(o.Items))
	for i, it := range o.Items {
		skus[i], quantities[i] = it.SKU, int32(it.Quantity)
	}
	return q.QueryRow(ctx, `
		WITH customer AS (
			INSERT INTO customers (wa_id, user_id, profile_name) VALUES ($1, NULLIF($2, ''), $3)
			ON CONFLICT (wa_id) DO UPDATE SET
				user_id = COALESCE(EXCLUDED.user_id, customers.user_id),
				profile_name = CASE WHEN EXCLUDED.profile_name <> '' THEN EXCLUDED.profile_name ELSE customers.profile_name END,
				updated_at = now()
			RETURNING id
		), inserted AS (
			INSERT INTO orders (id, customer_id, request_key, status, items, currency, total_minor,
			                    hold_expires_at, release_after, checkout_expires_at, metadata)
			SELECT $4, customer.id, $5, 'pending_payment', $6, $7, $8, $9, $10, $11, $12 FROM customer
			RETURNING id, customer_id
		), held AS (
			INSERT INTO reservations (order_id, sku, quantity, expires_at, release_after, state)
			SELECT inserted.id, line.sku, line.quantity, $9, $10, 'pending'
			FROM inserted, unnest($13::text[], $14::int[]) AS line(sku, quantity)
		)
		SELECT customer_id FROM inserted`,
		customerKey(c, o.Key), c.UserID, c.Name,
		o.ID, o.Key, string(items), o.Currency, o.TotalMinor,
		o.HoldExpiresAt, o.ReleaseAfter, o.CheckoutExpiry, string(meta), skus, quantities,
	).Scan(&o.CustomerID)
}

const guestPrefix = "guest:"

// customerKey keys customers by wa_id; shop-front orders without one get a
// customer of their own, keyed by the request.
func customerKey(c Customer, requestKey string) string {
	if c.WaID != "" {
		return c.WaID
	}
	return guestPrefix + requestKey
}

// markHeld records that Redis holds the order's stock.
func markHeld(ctx context.Context, q querier, id uuid.UUID) error {
	_, err := q.Exec(ctx, `UPDATE reservations SET state = 'held', updated_at = now()
		WHERE order_id = $1 AND state = 'pending'`, id)
	return err
}

// releaseReservations records that the order's stock went back: its
// reservations still pending or held are released.
func releaseReservations(ctx context.Context, q querier, id uuid.UUID) error {
	_, err := q.Exec(ctx, `UPDATE reservations SET state = 'released', updated_at = now()
		WHERE order_id = $1 AND state IN ('pending', 'held')`, id)
	return err
}

// cancel moves a pending order to cancelled and gives up its reservations,
// in one transaction; reason and shortages are kept for replies to retries.
// A payment link not sent yet is not sent after (outbox owed_while).
// It reports whether this call made the change.
func cancel(ctx context.Context, tx pgx.Tx, id uuid.UUID, reason string, shortages []Shortage) (bool, error) {
	meta, _ := json.Marshal(map[string]any{"cancel_reason": reason, "shortages": shortages})
	tag, err := tx.Exec(ctx, `UPDATE orders SET status = 'cancelled', metadata = metadata || $2, updated_at = now()
		WHERE id = $1 AND status = 'pending_payment'`, id, string(meta))
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	err = releaseReservations(ctx, tx, id)
	return err == nil, err
}
