package inventory

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/testenv"
)

var rt0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// recFixture is a shop with SKU A (10 on hand) and B (5), and orders added
// by each test, on real Postgres and Redis.
type recFixture struct {
	db    *pgxpool.Pool
	rdb   *redis.Client
	clock *testenv.Clock
	inv   *Inventory
	n     int
}

func newRecFixture(t *testing.T) *recFixture {
	f := &recFixture{db: testenv.DB(t), rdb: testenv.Redis(t), clock: testenv.NewClock(rt0)}
	f.inv = New(f.rdb, f.clock.Now)
	mustExec(t, f.db, `
		INSERT INTO products (id, item_group_id, title, price_minor, currency)
		VALUES ('00000000-0000-0000-0000-0000000000a1', 'P', 'P', 100, 'USD');
		INSERT INTO variants (product_id, sku, title, stock_on_hand) VALUES
			('00000000-0000-0000-0000-0000000000a1', 'A', 'A', 10),
			('00000000-0000-0000-0000-0000000000a1', 'B', 'B', 5);
		INSERT INTO customers (id, wa_id) VALUES ('00000000-0000-0000-0000-0000000000c1', '15550001111');`)
	return f
}

// order adds an order of status whose reservations are in state, and
// returns its id. stock_committed follows the status, as paid sets it.
func (f *recFixture) order(t *testing.T, status, state string, lines map[string]int) string {
	f.n++
	id := fmt.Sprintf("00000000-0000-0000-0000-%012d", f.n)
	mustExec(t, f.db, fmt.Sprintf(`INSERT INTO orders (id, customer_id, request_key, status, items, currency, total_minor,
			hold_expires_at, release_after, stock_committed)
		VALUES ('%s', '00000000-0000-0000-0000-0000000000c1', '%s', '%s', '[{}]', 'USD', 100,
			'2026-11-27 12:10Z', '2026-11-27 12:40Z', %t)`, id, id, status, status == "paid"))
	for sku, n := range lines {
		mustExec(t, f.db, fmt.Sprintf(`INSERT INTO reservations (order_id, sku, quantity, expires_at, release_after, state)
			VALUES ('%s', '%s', %d, '2026-11-27 12:10Z', '2026-11-27 12:40Z', '%s')`, id, sku, n, state))
	}
	return id
}

func (f *recFixture) hold(t *testing.T, id string, lines map[string]int) {
	t.Helper()
	h := Hold{OrderID: id, ExpiresAt: rt0.Add(10 * time.Minute), ReleaseAfter: rt0.Add(40 * time.Minute)}
	for sku, n := range lines {
		h.Lines = append(h.Lines, Line{SKU: sku, Quantity: n})
	}
	if _, err := f.inv.Reserve(t.Context(), h); err != nil {
		t.Fatal(err)
	}
}

func (f *recFixture) rebuild(t *testing.T) {
	t.Helper()
	if _, err := f.inv.Rebuild(t.Context(), f.db); err != nil {
		t.Fatal(err)
	}
}

func (f *recFixture) reconcile(t *testing.T, dry bool) ReconcileResult {
	t.Helper()
	res, err := f.inv.Reconcile(t.Context(), f.db, ReconcileOptions{DryRun: dry})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// state is what Redis says: availability and whether each order holds.
func (f *recFixture) state(t *testing.T, orders ...string) map[string]string {
	t.Helper()
	got := map[string]string{"A": f.rdb.Get(t.Context(), StockKey("A")).Val(), "B": f.rdb.Get(t.Context(), StockKey("B")).Val()}
	for _, id := range orders {
		got[id] = fmt.Sprint(f.rdb.Exists(t.Context(), HoldKey(id)).Val() == 1, " ", f.rdb.Get(t.Context(), DoneKey(id)).Val())
	}
	return got
}

func TestReconcileRepairsDrift(t *testing.T) {
	f := newRecFixture(t)
	held := f.order(t, "pending_payment", "held", map[string]int{"A": 2, "B": 1})
	f.rebuild(t)
	f.rdb.Set(t.Context(), StockKey("A"), 99, 0)
	f.rdb.Del(t.Context(), StockKey("B"))
	got := f.reconcile(t, false)
	if diff := cmp.Diff(ReconcileResult{SKUs: 2, Drifted: 2, DriftUnits: 95, Holds: 1}, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"A": "8", "B": "4", held: "true "}, f.state(t, held)); diff != "" {
		t.Errorf("Redis (-want +got):\n%s", diff)
	}
	if again := f.reconcile(t, false); again != (ReconcileResult{SKUs: 2, Holds: 1}) {
		t.Errorf("second run = %+v, want no drift", again)
	}
}

func TestReconcileHoldsAgainstPostgres(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, f *recFixture) string // returns the order to look at
		want  ReconcileResult
		state map[string]string // A, B, and the order as x: "<holds> <tombstone>"
		then  func(t *testing.T, f *recFixture, id string)
	}{{
		name: "a hold Redis lost is restored",
		setup: func(t *testing.T, f *recFixture) string {
			id := f.order(t, "pending_payment", "held", map[string]int{"A": 2})
			f.rebuild(t)
			f.rdb.Del(t.Context(), HoldKey(id))
			f.rdb.Set(t.Context(), StockKey("A"), 10, 0)
			return id
		},
		want:  ReconcileResult{SKUs: 2, Drifted: 1, DriftUnits: 2, Holds: 0, Restored: 1},
		state: map[string]string{"A": "8", "B": "5", "x": "true "},
	}, {
		name: "a hold released while Postgres was read stays released",
		setup: func(t *testing.T, f *recFixture) string {
			id := f.order(t, "pending_payment", "held", map[string]int{"A": 2})
			f.rebuild(t)
			f.inv.Release(t.Context(), id) // Postgres's release is on its way
			return id
		},
		want:  ReconcileResult{SKUs: 2},
		state: map[string]string{"A": "10", "B": "5", "x": "false released"},
	}, {
		name: "a sale committed in Redis but not yet in Postgres keeps its units taken",
		setup: func(t *testing.T, f *recFixture) string {
			id := f.order(t, "pending_payment", "held", map[string]int{"A": 2})
			f.rebuild(t)
			f.inv.Commit(t.Context(), id)
			return id
		},
		want:  ReconcileResult{SKUs: 2},
		state: map[string]string{"A": "8", "B": "5", "x": "false committed"},
	}, {
		name: "a late payment re-reserved for an expired order keeps its units taken",
		setup: func(t *testing.T, f *recFixture) string {
			id := f.order(t, "expired", "released", map[string]int{"A": 2})
			f.rebuild(t)
			f.hold(t, id, map[string]int{"A": 2})
			f.inv.Commit(t.Context(), id)
			return id
		},
		want:  ReconcileResult{SKUs: 2},
		state: map[string]string{"A": "8", "B": "5", "x": "false committed"},
	}, {
		name: "units a refunded order took in Redis come back",
		setup: func(t *testing.T, f *recFixture) string {
			id := f.order(t, "refunded", "released", map[string]int{"A": 2})
			f.rebuild(t)
			f.hold(t, id, map[string]int{"A": 2})
			f.inv.Commit(t.Context(), id) // then Postgres refused the sale
			return id
		},
		want:  ReconcileResult{SKUs: 2, Drifted: 1, DriftUnits: 2},
		state: map[string]string{"A": "10", "B": "5", "x": "false committed"},
	}, {
		name: "a phantom hold of a sold order goes without giving units back",
		setup: func(t *testing.T, f *recFixture) string {
			id := f.order(t, "paid", "committed", map[string]int{"A": 2})
			mustExec(t, f.db, `UPDATE variants SET stock_on_hand = 8 WHERE sku = 'A'`)
			f.rebuild(t)
			f.hold(t, id, map[string]int{"A": 2}) // as a rebuild before the sale's Postgres commit left it
			return id
		},
		want:  ReconcileResult{SKUs: 2, Drifted: 1, DriftUnits: 2, Phantoms: 1},
		state: map[string]string{"A": "8", "B": "5", "x": "false committed"},
		then: func(t *testing.T, f *recFixture, id string) {
			if out, _ := f.inv.Release(t.Context(), id); out != Committed || f.state(t)["A"] != "8" {
				t.Errorf("a late release = %s and A %s; want committed, nothing back", out, f.state(t)["A"])
			}
		},
	}, {
		name: "a hold Postgres keeps longer is extended in Redis",
		setup: func(t *testing.T, f *recFixture) string {
			id := f.order(t, "pending_payment", "held", map[string]int{"A": 2})
			f.rebuild(t)
			// A delayed payment moved the release in Postgres; Redis missed it.
			mustExec(t, f.db, fmt.Sprintf(`UPDATE orders SET status = 'processing', release_after = '2026-12-11 12:40Z' WHERE id = '%[1]s';
				UPDATE reservations SET release_after = '2026-12-11 12:40Z' WHERE order_id = '%[1]s'`, id))
			return id
		},
		want:  ReconcileResult{SKUs: 2, Holds: 1, Extended: 1},
		state: map[string]string{"A": "8", "B": "5", "x": "true "},
		then: func(t *testing.T, f *recFixture, id string) {
			want := float64(time.Date(2026, 12, 11, 12, 40, 0, 0, time.UTC).UnixMilli())
			got := []float64{f.rdb.ZScore(t.Context(), HoldsByReleaseKey, id).Val(),
				f.rdb.ZScore(t.Context(), ReservationsBySKUKey("A"), id).Val()}
			field, _ := f.rdb.HGet(t.Context(), HoldKey(id), "release_after").Float64()
			if diff := cmp.Diff([]float64{want, want, want}, append(got, field)); diff != "" {
				t.Errorf("release time in the indexes and the hold (-want +got):\n%s", diff)
			}
			// Past the session's release time, a buyer short of A takes nothing from it.
			f.clock.Advance(2 * time.Hour)
			if _, err := f.inv.Reserve(t.Context(), Hold{OrderID: "late", ExpiresAt: f.clock.Now().Add(10 * time.Minute),
				ReleaseAfter: f.clock.Now().Add(40 * time.Minute), Lines: []Line{{SKU: "A", Quantity: 9}}}); err == nil {
				t.Errorf("a buyer got 9 of A while 2 are held for a payment on its way")
			}
		},
	}, {
		name: "a release time within the same millisecond is no extension",
		setup: func(t *testing.T, f *recFixture) string {
			id := f.order(t, "pending_payment", "held", map[string]int{"A": 2})
			f.rebuild(t)
			// Postgres keeps microseconds; Redis has the millisecond Go truncated it to.
			mustExec(t, f.db, fmt.Sprintf(`UPDATE reservations SET release_after = release_after + interval '600 microseconds'
				WHERE order_id = '%s'`, id))
			return id
		},
		want:  ReconcileResult{SKUs: 2, Holds: 1},
		state: map[string]string{"A": "8", "B": "5", "x": "true "},
	}, {
		name: "a refund Postgres put back is marked so Restock adds nothing",
		setup: func(t *testing.T, f *recFixture) string {
			id := f.order(t, "refunded", "returned", map[string]int{"A": 2})
			f.rebuild(t)
			f.rdb.Set(t.Context(), StockKey("A"), 8, 0)
			f.rdb.Del(t.Context(), DoneKey(id))
			return id
		},
		want:  ReconcileResult{SKUs: 2, Drifted: 1, DriftUnits: 2, Restocked: 1},
		state: map[string]string{"A": "10", "B": "5", "x": "false restocked"},
		then: func(t *testing.T, f *recFixture, id string) {
			out, _ := f.inv.Restock(t.Context(), id, []Line{{SKU: "A", Quantity: 2}})
			if out != AlreadyRestocked || f.state(t)["A"] != "10" {
				t.Errorf("the late restock = %s and A %s; want already, 10", out, f.state(t)["A"])
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRecFixture(t)
			id := tt.setup(t, f)
			if diff := cmp.Diff(tt.want, f.reconcile(t, false)); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			tt.state[id] = tt.state["x"]
			delete(tt.state, "x")
			if diff := cmp.Diff(tt.state, f.state(t, id)); diff != "" {
				t.Errorf("Redis (-want +got):\n%s", diff)
			}
			if tt.then != nil {
				tt.then(t, f, id)
			}
		})
	}
}

func TestReconcileOrphansWaitOutTheGrace(t *testing.T) {
	f := newRecFixture(t)
	expired := f.order(t, "expired", "released", map[string]int{"B": 1})
	f.rebuild(t)
	unknown := "00000000-0000-0000-0000-00000000ffff"
	f.hold(t, unknown, map[string]int{"A": 3})
	f.hold(t, expired, map[string]int{"B": 1})
	for _, step := range []struct {
		advance time.Duration
		want    ReconcileResult
		state   map[string]string
	}{
		{0, ReconcileResult{SKUs: 2, OrphansWaiting: 2}, map[string]string{"A": "7", "B": "4", unknown: "true ", expired: "true "}},
		{4 * time.Minute, ReconcileResult{SKUs: 2, OrphansWaiting: 2}, map[string]string{"A": "7", "B": "4", unknown: "true ", expired: "true "}},
		{time.Minute, ReconcileResult{SKUs: 2, OrphansDropped: 2}, map[string]string{"A": "10", "B": "5", unknown: "false released", expired: "false released"}},
		{time.Minute, ReconcileResult{SKUs: 2}, map[string]string{"A": "10", "B": "5", unknown: "false released", expired: "false released"}},
	} {
		f.clock.Advance(step.advance)
		if diff := cmp.Diff(step.want, f.reconcile(t, false)); diff != "" {
			t.Errorf("after %v: result (-want +got):\n%s", step.advance, diff)
		}
		if diff := cmp.Diff(step.state, f.state(t, unknown, expired)); diff != "" {
			t.Errorf("after %v: Redis (-want +got):\n%s", step.advance, diff)
		}
	}
	if n := f.rdb.ZCard(t.Context(), OrphansKey).Val(); n != 0 {
		t.Errorf("%d orphans still remembered", n)
	}
}

func TestReconcileDryRunChangesNothing(t *testing.T) {
	f := newRecFixture(t)
	f.order(t, "pending_payment", "held", map[string]int{"A": 2})
	f.rebuild(t)
	f.rdb.Set(t.Context(), StockKey("A"), 99, 0)
	f.hold(t, "00000000-0000-0000-0000-00000000ffff", map[string]int{"B": 1})
	dump := func() map[string]string {
		out := map[string]string{}
		for _, k := range f.rdb.Keys(t.Context(), "*").Val() {
			out[k] = fmt.Sprint(f.rdb.Dump(t.Context(), k).Val())
		}
		return out
	}
	before := dump()
	got := f.reconcile(t, true)
	want := ReconcileResult{SKUs: 2, Drifted: 1, DriftUnits: 91, Holds: 1, OrphansWaiting: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, dump()); diff != "" {
		t.Errorf("a dry run changed Redis (-before +after):\n%s", diff)
	}
	f.rdb.FlushDB(t.Context())
	if got := f.reconcile(t, true); got != (ReconcileResult{NeedsRebuild: true}) || f.rdb.DBSize(t.Context()).Val() != 0 {
		t.Errorf("dry run without an epoch = %+v and wrote to Redis", got)
	}
}

func TestReconcileRebuildsWhenTheEpochIsMissing(t *testing.T) {
	f := newRecFixture(t)
	held := f.order(t, "pending_payment", "held", map[string]int{"A": 2})
	f.rebuild(t)
	f.rdb.FlushDB(t.Context())
	if got := f.reconcile(t, false); got != (ReconcileResult{Rebuilt: true, SKUs: 2, Holds: 1}) {
		t.Errorf("Reconcile = %+v, want a rebuild", got)
	}
	if diff := cmp.Diff(map[string]string{"A": "8", "B": "5", held: "true "}, f.state(t, held)); diff != "" {
		t.Errorf("Redis (-want +got):\n%s", diff)
	}
	// Another rebuild holds the lease: leave it to that one.
	f.rdb.Del(t.Context(), EpochKey)
	f.rdb.Set(t.Context(), RebuildingKey, "someone", time.Minute)
	if got := f.reconcile(t, false); got != (ReconcileResult{RebuildRunning: true}) {
		t.Errorf("Reconcile during a rebuild = %+v", got)
	}
}
