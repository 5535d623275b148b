package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/orders"
)

// report prints what the senders did and what broke on the way.
func (sc *scenario) report(w io.Writer, took time.Duration, cleanups int) {
	fates := map[string]int{}
	for _, f := range sc.rec.fates {
		fates[f]++
	}
	fmt.Fprintf(w, "customers      %d in %.1f s (%.0f/s); %d order requests made no order (no stock)\n",
		sc.started.Load(), took.Seconds(), float64(sc.started.Load())/took.Seconds(), sc.rec.refused)
	fmt.Fprintf(w, "orders         %d made: %d paid, %d paid by a delayed method, %d delayed payments failed, %d cancelled, %d left to expire\n",
		len(sc.rec.fates), fates["pay"], fates["pay later"], fates["payment fails"], fates["cancel"], fates["expire"])
	fmt.Fprintf(w, "deliveries     %s\n", sc.send.summary())
	fmt.Fprintf(w, "               %d distinct WhatsApp messages, %d distinct Stripe events, %d copies held back and delivered late\n",
		len(sc.rec.inbound), len(sc.rec.events), len(sc.late))
	for _, f := range sc.rec.faults {
		fmt.Fprintf(w, "fault          %s\n", f)
	}
	fmt.Fprintf(w, "cleanup        quiet after %d run(s)\n", cleanups)
}

// check verifies every promise against Postgres, Redis and the stand-ins,
// printing PASS or FAIL with numbers. It reports whether all passed.
func (sc *scenario) check(ctx context.Context, w io.Writer) (bool, error) {
	ok := true
	verdict := func(pass bool, format string, args ...any) {
		word := "PASS"
		if !pass {
			word, ok = "FAIL", false
		}
		fmt.Fprintf(w, "%s  %s\n", word, fmt.Sprintf(format, args...))
	}
	checks := []func(context.Context, func(bool, string, ...any)) error{
		sc.checkStock, sc.checkOrders, sc.checkEvents, sc.checkNotices, sc.checkAvailability,
	}
	for _, c := range checks {
		if err := c(ctx, verdict); err != nil {
			return false, err
		}
	}
	return ok, nil
}

// checkStock: never oversold, and every unit is on the shelf or sold.
func (sc *scenario) checkStock(ctx context.Context, verdict func(bool, string, ...any)) error {
	rows, err := sc.st.db.Query(ctx, `SELECT v.sku, v.stock_on_hand,
		COALESCE((SELECT sum(r.quantity) FROM reservations r WHERE r.sku = v.sku AND r.state = 'committed'), 0),
		COALESCE((SELECT sum(r.quantity) FROM reservations r JOIN orders o ON o.id = r.order_id
			WHERE r.sku = v.sku AND o.status = 'paid'), 0)
		FROM variants v ORDER BY v.sku`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var paidAll, sold, onHand, initial int
	var over, unbalanced []string
	for rows.Next() {
		var sku string
		var hand, committed, paid int
		if err := rows.Scan(&sku, &hand, &committed, &paid); err != nil {
			return err
		}
		start := sc.stock[sku]
		if paid > start {
			over = append(over, fmt.Sprintf("%s paid %d of %d", sku, paid, start))
		}
		if hand+committed != start || paid != committed {
			unbalanced = append(unbalanced, fmt.Sprintf("%s: on hand %d + sold %d ≠ %d (paid %d)", sku, hand, committed, start, paid))
		}
		paidAll, sold, onHand, initial = paidAll+paid, sold+committed, onHand+hand, initial+start
	}
	if err := rows.Err(); err != nil {
		return err
	}
	verdict(len(over) == 0, "never oversold: %d units paid for, %d in stock at the start %s", paidAll, initial, strings.Join(over, "; "))
	verdict(len(unbalanced) == 0, "stock balances: %d on hand + %d sold = %d %s", onHand, sold, initial, strings.Join(unbalanced, "; "))
	return nil
}

// checkOrders: one order per order request, one processing per message.
func (sc *scenario) checkOrders(ctx context.Context, verdict func(bool, string, ...any)) error {
	keys := slices.Collect(maps.Keys(sc.rec.requests))
	var orders, ours, dupKeys int
	err := sc.st.db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE request_key = ANY($1)),
		(SELECT count(*) FROM (SELECT 1 FROM orders GROUP BY request_key HAVING count(*) > 1) d) FROM orders`, keys).
		Scan(&orders, &ours, &dupKeys)
	if err != nil {
		return err
	}
	made := len(sc.rec.fates)
	verdict(orders == ours && dupKeys == 0 && made <= orders,
		"one order per order request: %d requests, %d orders (%d went on to payment, the rest cancelled for want of stock), %d keys with more than one",
		len(keys), orders, made, dupKeys)

	ids := slices.Collect(maps.Keys(sc.rec.inbound))
	var processed, all int
	if err := sc.st.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE wa_message_id = ANY($1)), count(*) FROM processed_messages`, ids).
		Scan(&processed, &all); err != nil {
		return err
	}
	verdict(processed == len(ids) && all == len(ids), "every WhatsApp message handled once: %d distinct sent, %d recorded (%d in all)",
		len(ids), processed, all)

	var messages []struct{ To string }
	if err := control(ctx, sc.st.graphURL+"/_control/messages", getRequest{}, &messages); err != nil {
		return err
	}
	answered := map[string]bool{}
	for _, m := range messages {
		answered[m.To] = true
	}
	var unanswered []string
	for _, from := range sc.rec.requests {
		if !answered[from] {
			unanswered = append(unanswered, from)
		}
	}
	verdict(len(unanswered) == 0, "every customer got an answer: %d of %d unanswered %s",
		len(unanswered), len(sc.rec.requests), firstFew(unanswered))
	return nil
}

// checkEvents: each Stripe event applied once, and orders ended as their
// customers chose.
func (sc *scenario) checkEvents(ctx context.Context, verdict func(bool, string, ...any)) error {
	ids := slices.Collect(maps.Keys(sc.rec.events))
	var recorded, all, fromSessions int
	if err := sc.st.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE stripe_event_id = ANY($1)),
			count(*) FILTER (WHERE NOT starts_with(stripe_event_id, $2)), count(*) FILTER (WHERE starts_with(stripe_event_id, $2))
		FROM processed_events`, ids, orders.SessionPaymentPrefix).Scan(&recorded, &all, &fromSessions); err != nil {
		return err
	}
	verdict(recorded == len(ids) && all == len(ids),
		"every Stripe event applied once: %d distinct sent, %d recorded (%d in all; %d payments cleanup read from sessions)",
		len(ids), recorded, all, fromSessions)

	want := map[string][]string{"pay": {"paid"}, "pay later": {"paid"}, "payment fails": {"payment_failed"},
		"cancel": {"cancelled"}, "expire": {"expired"}}
	ids = ids[:0]
	for id := range sc.rec.fates {
		ids = append(ids, id.String())
	}
	rows, err := sc.st.db.Query(ctx, `SELECT id, status FROM orders WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	ended := map[string]int{}
	var wrong []string
	for rows.Next() {
		var id uuid.UUID
		var status string
		if err := rows.Scan(&id, &status); err != nil {
			return err
		}
		ended[status]++
		if fate := sc.rec.fates[id]; !slices.Contains(want[fate], status) {
			wrong = append(wrong, fmt.Sprintf("%s: %s, want %s", id, status, want[fate][0]))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	verdict(len(wrong) == 0, "orders ended as their customers chose: %v %s", ended, firstFew(wrong))
	return nil
}

// checkNotices: the customer hears about every outcome exactly once and
// nothing waits in the outbox.
func (sc *scenario) checkNotices(ctx context.Context, verdict func(bool, string, ...any)) error {
	var paid, confirmed, expired, expiryNoticed, refunded, refundNoticed, failedPay, failedNoticed, pending, failed, withdrawn int
	err := sc.st.db.QueryRow(ctx, `
		WITH sent AS (SELECT order_id, kind FROM outbox WHERE status IN ('sent', 'delivered', 'read'))
		SELECT
			(SELECT count(*) FROM orders WHERE status = 'paid'),
			(SELECT count(*) FROM orders o WHERE status = 'paid' AND (SELECT count(*) FROM sent s WHERE s.order_id = o.id AND s.kind = 'order_confirmation') = 1),
			(SELECT count(*) FROM orders WHERE status = 'expired'),
			(SELECT count(*) FROM orders o WHERE status = 'expired' AND (SELECT count(*) FROM sent s WHERE s.order_id = o.id AND s.kind = 'expiry_notice') = 1),
			(SELECT count(*) FROM orders WHERE status = 'refunded'),
			(SELECT count(*) FROM orders o WHERE status = 'refunded' AND EXISTS (SELECT 1 FROM sent s WHERE s.order_id = o.id AND s.kind IN ('refund_notice', 'refunded'))),
			(SELECT count(*) FROM orders WHERE status = 'payment_failed'),
			(SELECT count(*) FROM orders o WHERE status = 'payment_failed' AND (SELECT count(*) FROM sent s WHERE s.order_id = o.id AND s.kind = 'payment_failed') = 1),
			(SELECT count(*) FROM outbox WHERE status = 'pending'),
			(SELECT count(*) FROM outbox WHERE status = 'failed'),
			(SELECT count(*) FROM outbox WHERE status = 'withdrawn')`).
		Scan(&paid, &confirmed, &expired, &expiryNoticed, &refunded, &refundNoticed, &failedPay, &failedNoticed, &pending, &failed, &withdrawn)
	if err != nil {
		return err
	}
	verdict(confirmed == paid, "every paid order has exactly one confirmation sent: %d of %d", confirmed, paid)
	verdict(expiryNoticed == expired && refundNoticed == refunded && failedNoticed == failedPay,
		"every expired, refunded or failed payment has its notice: expired %d of %d, refunded %d of %d, payment failed %d of %d",
		expiryNoticed, expired, refundNoticed, refunded, failedNoticed, failedPay)
	verdict(pending == 0 && failed == 0, "no outbox message stuck: %d pending, %d failed (%d withdrawn: their order moved on before a retry)",
		pending, failed, withdrawn)
	return nil
}

// checkAvailability: Redis holds exactly what Postgres implies.
func (sc *scenario) checkAvailability(ctx context.Context, verdict func(bool, string, ...any)) error {
	rows, err := sc.st.db.Query(ctx, `SELECT v.sku, v.stock_on_hand - COALESCE((SELECT sum(r.quantity) FROM reservations r
		WHERE r.sku = v.sku AND r.state = 'held'), 0) FROM variants v ORDER BY v.sku`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var drift []string
	for rows.Next() {
		var sku string
		var want int
		if err := rows.Scan(&sku, &want); err != nil {
			return err
		}
		got, err := sc.st.rdb.Get(ctx, inventory.StockKey(sku)).Int()
		if err != nil || got != want {
			drift = append(drift, fmt.Sprintf("%s: Redis %d (%v), Postgres implies %d", sku, got, err, want))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var held int
	if err := sc.st.db.QueryRow(ctx, `SELECT count(DISTINCT order_id) FROM reservations WHERE state = 'held'`).Scan(&held); err != nil {
		return err
	}
	holds, err := sc.st.rdb.ZCard(ctx, "{inv}:holds_by_release").Result()
	if err != nil {
		return err
	}
	verdict(len(drift) == 0 && int(holds) == held, "Redis availability equals what Postgres implies: %d SKUs drifted, %d holds in Redis, %d in Postgres %s",
		len(drift), holds, held, strings.Join(drift, "; "))
	return nil
}

func firstFew(s []string) string {
	if len(s) == 0 {
		return ""
	}
	b, _ := json.Marshal(s[:min(len(s), 5)])
	return "e.g. " + string(b)
}
