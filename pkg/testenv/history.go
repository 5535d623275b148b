package testenv

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PastOrders is how many orders a benchmark's shop has had before it starts.
const PastOrders = 5000

// History gives a benchmark's database the past of a shop that has been
// trading: n customers, each with an order of the first variant; nine in ten
// paid (committed reservation, the WhatsApp message and Stripe event that
// made it, its sent confirmation), one in ten still awaiting payment; then
// ANALYZE, as autovacuum would have run by then. Without it a benchmark measures a shop on its first day, whose
// tables the planner has never seen: it plans them as empty and keeps
// choosing scans that get slower with every row the benchmark adds.
func History(t testing.TB, db *pgxpool.Pool, n int) {
	t.Helper()
	_, err := db.Exec(t.Context(), `
		WITH customer AS (
			INSERT INTO customers (wa_id, profile_name)
			SELECT 'h' || g, 'Past customer' FROM generate_series(1, $1) g
			RETURNING id, wa_id
		), sku AS (
			SELECT sku FROM variants ORDER BY sku LIMIT 1
		), ordered AS (
			INSERT INTO orders (customer_id, request_key, status, items, currency, total_minor,
				hold_expires_at, release_after, checkout_session_id, payment_intent_id, stock_committed, paid_at,
				created_at)
			SELECT c.id, 'history:' || c.wa_id, p.status, jsonb_build_array(jsonb_build_object('sku', sku.sku, 'quantity', 1)),
				'USD', 1500, p.at, p.at, 'cs_history_' || c.wa_id,
				'pi_history_' || c.wa_id, p.paid, CASE WHEN p.paid THEN p.at END, p.at
			FROM customer c, sku, LATERAL (
				SELECT right(c.wa_id, 1) <> '0' AS paid,
					CASE WHEN right(c.wa_id, 1) <> '0' THEN 'paid' ELSE 'pending_payment' END AS status,
					CASE WHEN right(c.wa_id, 1) <> '0' THEN now() - interval '2 days' ELSE now() + interval '1 hour' END AS at
			) p
			RETURNING id, customer_id, request_key, status, hold_expires_at
		), reserved AS (
			-- 'pending': an inventory rebuild leaves these to the order path.
			INSERT INTO reservations (order_id, sku, quantity, expires_at, release_after, state)
			SELECT o.id, sku.sku, 1, o.hold_expires_at, o.hold_expires_at,
				CASE WHEN o.status = 'paid' THEN 'committed' ELSE 'pending' END FROM ordered o, sku
		), messages AS (
			INSERT INTO processed_messages (wa_message_id, outcome) SELECT 'wamid.' || request_key, 'order' FROM ordered
		), events AS (
			INSERT INTO processed_events (stripe_event_id, type, order_id, outcome)
			SELECT 'evt_' || request_key, 'checkout.session.completed', id, 'paid' FROM ordered WHERE status = 'paid'
		)
		INSERT INTO outbox (order_id, kind, recipient, payload, status, attempts, provider_message_id, sent_at)
		SELECT o.id, 'order_confirmation', c.wa_id, '{}', 'sent', 1, 'wamid.sent.' || o.request_key, now() - interval '2 days'
		FROM ordered o JOIN customer c ON c.id = o.customer_id WHERE o.status = 'paid'`, n)
	if err != nil {
		t.Fatalf("seed history: %v", err)
	}
	if _, err := db.Exec(t.Context(), `ANALYZE`); err != nil {
		t.Fatalf("analyze: %v", err)
	}
}
