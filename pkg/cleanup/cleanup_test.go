package cleanup

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/orders"
)

func TestARunDoesEveryStep(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 10, "TEE-L": 5}, 1000)
	for i := range 3 {
		h.order(t, i, "TEE-M", 1)
	}
	h.clock.Advance(5 * time.Minute)
	h.order(t, 3, "TEE-L", 2) // still within its hold
	h.clock.Advance(6 * time.Minute)
	h.rdb.Set(t.Context(), inventory.StockKey("TEE-L"), 99, 0) // drift

	rep, err := h.runner.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := [4]int{rep.Lapsed.SessionExpired, rep.Lapsed.Released, rep.Outbox.Sent, rep.Reconcile.Drifted}
	if want := [4]int{3, 3, 3, 1}; got != want {
		t.Errorf("expired, released, sent, drifted = %v, want %v (report %+v)", got, want, rep)
	}
	if diff := cmp.Diff(h.implied(t), h.redisState(t)); diff != "" {
		t.Errorf("Redis against what Postgres implies (-want +got):\n%s", diff)
	}
	for i := range 3 {
		if n := h.lapsedMessages(i); n != 1 {
			t.Errorf("customer %d got %d expiry notices, want 1", i, n)
		}
	}
	again, err := h.runner.Run(t.Context())
	if err != nil || again.Lapsed != (orders.LapseReport{}) || again.Outbox.Sent != 0 || again.Reconcile.Drifted != 0 {
		t.Errorf("second run = %+v, %v; want nothing to do", again, err)
	}
}

func TestTwoRunsAtOnceShareTheWork(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 30}, 1000)
	for i := range 20 {
		h.order(t, i, "TEE-M", 1)
	}
	h.clock.Advance(11 * time.Minute)
	reps := make([]Report, 2)
	var wg sync.WaitGroup
	for i := range reps {
		wg.Go(func() {
			var err error
			if reps[i], err = h.runner.Run(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	expired := reps[0].Lapsed.SessionExpired + reps[1].Lapsed.SessionExpired
	sent := reps[0].Outbox.Sent + reps[1].Outbox.Sent
	if expired != 20 || sent != 20 {
		t.Errorf("expired %d, sent %d in all, want 20 each: %+v", expired, sent, reps)
	}
	if len(h.expireTimes) != 20 {
		t.Errorf("%d expire calls to Stripe, want 20", len(h.expireTimes))
	}
	for i := range 20 {
		if n := h.lapsedMessages(i); n != 1 {
			t.Errorf("customer %d got %d expiry notices, want 1", i, n)
		}
	}
	if n := h.count(t, `SELECT count(*) FROM orders WHERE status = 'expired'`); n != 20 {
		t.Errorf("%d orders expired, want 20", n)
	}
	if diff := cmp.Diff(h.implied(t), h.redisState(t)); diff != "" {
		t.Errorf("Redis against what Postgres implies (-want +got):\n%s", diff)
	}
}

// Each test has a Redis database of its own, so FLUSHDB is this test's
// FLUSHALL: the real one would empty the other tests' databases too.
func TestRedisLostThenCleanupRestoresWhatPostgresImplies(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 10, "TEE-L": 5}, 1000)
	paid := h.order(t, 0, "TEE-M", 2)
	if _, err := h.stripe.Pay(t.Context(), paid.CheckoutID, false); err != nil {
		t.Fatal(err)
	}
	h.order(t, 1, "TEE-M", 3)
	h.order(t, 2, "TEE-L", 1)
	h.order(t, 3, "TEE-L", 2)
	h.clock.Advance(11 * time.Minute)
	if _, err := h.runner.Run(t.Context()); err != nil { // orders 1 to 3 lapse
		t.Fatal(err)
	}
	h.order(t, 4, "TEE-M", 1)
	h.order(t, 5, "TEE-L", 4)
	before := h.redisState(t)
	if diff := cmp.Diff(h.implied(t), before); diff != "" {
		t.Fatalf("before the flush, Redis already disagrees (-want +got):\n%s", diff)
	}

	h.rdb.FlushDB(t.Context())
	rep, err := h.runner.Run(t.Context())
	if err != nil || !rep.Reconcile.Rebuilt || rep.Reconcile.Holds != 2 {
		t.Fatalf("run after the flush = %+v, %v; want a rebuild restoring 2 holds", rep, err)
	}
	if diff := cmp.Diff(before, h.redisState(t)); diff != "" {
		t.Errorf("after the flush and a run (-before +after):\n%s", diff)
	}
	// And the shop goes on: the next run finds nothing to repair.
	next, err := h.runner.Run(t.Context())
	if err != nil || next.Reconcile.Drifted+next.Reconcile.Restored+next.Reconcile.OrphansWaiting != 0 {
		t.Errorf("next run = %+v, %v; want nothing to repair", next.Reconcile, err)
	}
}

func TestARunCutOffByItsDeadlineResumes(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 40}, 20) // 30 calls take 1.5 s
	for i := range 30 {
		h.order(t, i, "TEE-M", 1)
	}
	h.clock.Advance(11 * time.Minute)
	short := *h.runner
	short.Timeout = 800 * time.Millisecond
	first, err := short.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !first.Lapsed.Stopped || first.Lapsed.SessionExpired == 0 || first.Lapsed.SessionExpired >= 30 {
		t.Fatalf("first run = %+v; want it cut off partway", first.Lapsed)
	}
	if n := h.count(t, `SELECT count(*) FROM orders WHERE metadata ? 'lapse_claimed_until'`); n != 0 {
		t.Errorf("%d orders left claimed by the cut-off run", n)
	}
	second, err := h.runner.Run(t.Context())
	if err != nil || second.Lapsed.Stopped || len(second.Skipped) > 0 {
		t.Fatalf("second run = %+v, %v", second, err)
	}
	if got := first.Lapsed.SessionExpired + second.Lapsed.SessionExpired + second.Lapsed.Settled; got != 30 {
		t.Errorf("expired %d in all, want 30", got)
	}
	for i := range 30 {
		if n := h.lapsedMessages(i); n != 1 {
			t.Errorf("customer %d got %d expiry notices, want 1", i, n)
		}
	}
	if diff := cmp.Diff(h.implied(t), h.redisState(t)); diff != "" {
		t.Errorf("Redis against what Postgres implies (-want +got):\n%s", diff)
	}
}

func TestADryRunChangesNothing(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 10}, 1000)
	h.order(t, 0, "TEE-M", 1)
	h.order(t, 1, "TEE-M", 2)
	h.clock.Advance(11 * time.Minute)
	h.rdb.Set(t.Context(), inventory.StockKey("TEE-M"), 1, 0)
	redisBefore := h.redisState(t)
	rowsBefore := h.count(t, `SELECT count(*) FROM orders WHERE status = 'pending_payment'`)
	calls := len(h.stripe.Requests())

	dry := *h.runner
	dry.DryRun = true
	rep, err := dry.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := Report{DryRun: true, Lapsed: orders.LapseReport{AskStripe: 2},
		Reconcile: inventory.ReconcileResult{SKUs: 1, Drifted: 1, DriftUnits: 6, Holds: 2}}
	if diff := cmp.Diff(want, rep, cmpIgnoreTook); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(redisBefore, h.redisState(t)); diff != "" {
		t.Errorf("Redis changed (-before +after):\n%s", diff)
	}
	if n := h.count(t, `SELECT count(*) FROM orders WHERE status = 'pending_payment'`); n != rowsBefore || len(h.stripe.Requests()) != calls {
		t.Errorf("a dry run changed orders or called Stripe")
	}
}

var cmpIgnoreTook = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".TookMS" }, cmp.Ignore())

// Customers order, pay and let sessions expire while cleanup runs over and
// over: reconcile recomputes availability in the middle of it all, and
// Redis must end agreeing with Postgres, with nothing oversold.
func TestCleanupRacesLiveTraffic(t *testing.T) {
	stock := map[string]int{"TEE-M": 50, "TEE-L": 30}
	h := newHarness(t, stock, 1000)
	done := make(chan struct{})
	var runs sync.WaitGroup
	var mu sync.Mutex
	var ran, repaired int
	// Whole runs, and reconcile alone in a tight loop, for many more
	// chances to meet a change in flight. Nothing drifts here: a repair
	// would be reconcile mistaking a change in flight for drift.
	for _, step := range []func() (inventory.ReconcileResult, error){
		func() (inventory.ReconcileResult, error) {
			rep, err := h.runner.Run(t.Context())
			return rep.Reconcile, err
		},
		func() (inventory.ReconcileResult, error) { return h.runner.reconcile(t.Context()) },
	} {
		runs.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				res, err := step()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ran, repaired = ran+1, repaired+res.Drifted+res.Restored+res.Phantoms+res.OrphansDropped
				mu.Unlock()
			}
		})
	}
	var customers sync.WaitGroup
	for i := range 80 {
		customers.Go(func() {
			sku := map[bool]string{true: "TEE-M", false: "TEE-L"}[i%3 != 0]
			o, err := h.svc.Create(t.Context(), orders.Request{Key: fmt.Sprintf("race:%d", i),
				Customer: orders.Customer{WaID: waID(i)}, Lines: []orders.Line{{SKU: sku, Quantity: 1 + i%2}}})
			if err != nil {
				return // out of stock
			}
			switch i % 4 {
			case 0, 1:
				_, err = h.stripe.Pay(t.Context(), o.CheckoutID, false)
			case 2:
				_, err = h.stripe.ExpireSession(t.Context(), o.CheckoutID)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	customers.Wait()
	close(done)
	runs.Wait()
	t.Logf("%d cleanup runs and reconciles during the traffic", ran)
	if ran < 3 || repaired != 0 {
		t.Errorf("%d runs during the traffic repaired %d things; want many runs and no repairs", ran, repaired)
	}
	h.clock.Advance(11 * time.Minute) // the unpaid rest lapses
	if _, err := h.runner.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h.implied(t), h.redisState(t)); diff != "" {
		t.Errorf("Redis against what Postgres implies (-want +got):\n%s", diff)
	}
	for sku, initial := range stock {
		sold := h.count(t, `SELECT COALESCE(sum(quantity), 0) FROM reservations WHERE sku = $1 AND state = 'committed'`, sku)
		onHand := h.count(t, `SELECT stock_on_hand FROM variants WHERE sku = $1`, sku)
		if sold+onHand != initial || sold == 0 {
			t.Errorf("%s: %d sold + %d on hand, want %d in all and some sold", sku, sold, onHand, initial)
		}
	}
	if n := h.count(t, `SELECT count(*) FROM orders WHERE status = 'pending_payment'`); n != 0 {
		t.Errorf("%d orders still pending after they lapsed", n)
	}
}
