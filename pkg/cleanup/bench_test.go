package cleanup

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkCleanupLapsed is one scheduled run (25 s deadline) facing a
// backlog: 10,000 lapsed holds whose sessions Stripe has long expired (past
// release_after, so no Stripe call is needed) and 100 whose sessions are
// still open, expired at Stripe at the default STRIPE_RATE_LIMIT of 20/s.
// Every one of the 10,000 must be cleared in the run: order expired, hold
// released in Redis, expiry notice queued. Run it once per backlog:
//
//	go test -run '^$' -bench CleanupLapsed -benchtime 1x ./pkg/cleanup/
//
// BENCH_LAPSED and BENCH_OPEN change the two numbers.
func BenchmarkCleanupLapsed(b *testing.B) {
	backlog := 10000
	if n, err := strconv.Atoi(os.Getenv("BENCH_LAPSED")); err == nil && n > 0 {
		backlog = n
	}
	open := 100
	if n, err := strconv.Atoi(os.Getenv("BENCH_OPEN")); err == nil && n >= 0 {
		open = n
	}
	for range b.N {
		b.StopTimer()
		h := lapsedBacklog(b, backlog, open)
		b.StartTimer()
		rep, err := h.runner.Run(b.Context())
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		notices := h.count(b, `SELECT count(*) FROM outbox WHERE kind = 'expiry_notice'`)
		expired := h.count(b, `SELECT count(*) FROM orders WHERE status = 'expired'`)
		holds := h.rdb.ZCard(b.Context(), "{inv}:holds_by_release").Val()
		if rep.Lapsed.PastRelease != backlog || expired < backlog || notices < backlog || holds > int64(open) {
			b.Errorf("not cleared in one run: %+v; %d orders expired, %d notices, %d holds left", rep.Lapsed, expired, notices, holds)
		}
		b.ReportMetric(float64(rep.Lapsed.PastRelease), "cleared/run")
		b.ReportMetric(float64(rep.TookMS)/1000, "run_s")
		b.ReportMetric(float64(rep.Lapsed.SessionExpired), "stripe_expired/run")
		if n := len(h.expireTimes); n > 1 {
			span := h.expireTimes[n-1].Sub(h.expireTimes[0]).Seconds()
			b.ReportMetric(float64(n-1)/span, "stripe_calls/s")
		}
		b.Logf("report: lapsed %+v outbox %+v reconcile %+v took %d ms", rep.Lapsed, rep.Outbox, rep.Reconcile, rep.TookMS)
	}
}

// lapsedBacklog builds the backlog: the past-release orders straight in
// Postgres (creating 10,000 through Stripe would take minutes at 20/s) and
// held in Redis by a rebuild, the open ones through orders.Create.
func lapsedBacklog(b *testing.B, backlog, open int) *harness {
	h := newHarness(b, map[string]int{"TEE-M": 1 << 20}, 20)
	_, err := h.db.Exec(b.Context(), `
		WITH c AS (
			INSERT INTO customers (wa_id) SELECT '1666' || lpad(i::text, 8, '0') FROM generate_series(1, $1) i
			RETURNING id, wa_id
		), o AS (
			INSERT INTO orders (id, customer_id, request_key, status, items, currency, total_minor,
				hold_expires_at, release_after, checkout_session_id, checkout_url, checkout_expires_at)
			SELECT gen_random_uuid(), c.id, 'bench:' || c.wa_id, 'pending_payment',
				'[{"sku":"TEE-M","title":"T-shirt","quantity":1,"unit_price_minor":1500}]', 'USD', 1500,
				$2::timestamptz + interval '10 minutes', $2::timestamptz + interval '40 minutes',
				'cs_test_bench_' || c.wa_id, 'https://checkout.example/' || c.wa_id, $2::timestamptz + interval '35 minutes'
			FROM c RETURNING id, hold_expires_at, release_after
		)
		INSERT INTO reservations (order_id, sku, quantity, expires_at, release_after, state)
		SELECT id, 'TEE-M', 1, hold_expires_at, release_after, 'held' FROM o`, backlog, t0)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := h.svc.Inventory.Rebuild(b.Context(), h.db); err != nil {
		b.Fatal(err)
	}
	h.clock.Advance(35 * time.Minute)
	for i := range open {
		h.order(b, i, "TEE-M", 1)
	}
	h.clock.Advance(11 * time.Minute) // the backlog is past release_after; the open ones lapsed
	h.expireTimes = nil
	return h
}
