package inventory

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/testenv"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// stocked returns an Inventory over a private Redis database holding the
// given availability, marked as built. A nil clock is the wall clock.
func stocked(t testing.TB, clock *testenv.Clock, stock map[string]int) (*Inventory, redis.UniversalClient) {
	t.Helper()
	rdb := testenv.Redis(t)
	for sku, n := range stock {
		rdb.Set(t.Context(), StockKey(sku), n, 0)
	}
	rdb.Set(t.Context(), EpochKey, "test", 0)
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	return New(rdb, now), rdb
}

func hold(order string, lines ...Line) Hold {
	return Hold{OrderID: order, Lines: lines, ExpiresAt: t0.Add(10 * time.Minute), ReleaseAfter: t0.Add(35 * time.Minute)}
}

func TestReserveReleaseCommit(t *testing.T) {
	ctx := t.Context()
	clock := testenv.NewClock(t0)
	inv, _ := stocked(t, clock, map[string]int{"A": 3, "B": 1})

	steps := []struct {
		name    string
		do      func() (Outcome, error)
		want    Outcome
		wantErr error
		avail   map[string]int
	}{
		{"reserve two lines", func() (Outcome, error) { return outcome(inv.Reserve(ctx, hold("o1", Line{"A", 2}, Line{"B", 1}))) }, Reserved, nil, map[string]int{"A": 1, "B": 0}},
		{"same order again is a no-op", func() (Outcome, error) { return outcome(inv.Reserve(ctx, hold("o1", Line{"A", 2}, Line{"B", 1}))) }, Held, nil, map[string]int{"A": 1, "B": 0}},
		{"short line refuses all", func() (Outcome, error) { return outcome(inv.Reserve(ctx, hold("o2", Line{"A", 1}, Line{"B", 1}))) }, "", ErrOutOfStock, map[string]int{"A": 1, "B": 0}},
		{"release returns stock", func() (Outcome, error) { return inv.Release(ctx, "o1") }, Released, nil, map[string]int{"A": 3, "B": 1}},
		{"release twice returns it once", func() (Outcome, error) { return inv.Release(ctx, "o1") }, Released, nil, map[string]int{"A": 3, "B": 1}},
		{"commit after release says so", func() (Outcome, error) { return inv.Commit(ctx, "o1") }, Released, nil, map[string]int{"A": 3, "B": 1}},
		{"late payment re-reserves", func() (Outcome, error) { return outcome(inv.Reserve(ctx, hold("o1", Line{"A", 2}, Line{"B", 1}))) }, Reserved, nil, map[string]int{"A": 1, "B": 0}},
		{"commit keeps stock taken", func() (Outcome, error) { return inv.Commit(ctx, "o1") }, Committed, nil, map[string]int{"A": 1, "B": 0}},
		{"commit twice is a no-op", func() (Outcome, error) { return inv.Commit(ctx, "o1") }, Committed, nil, map[string]int{"A": 1, "B": 0}},
		{"release after commit returns nothing", func() (Outcome, error) { return inv.Release(ctx, "o1") }, Committed, nil, map[string]int{"A": 1, "B": 0}},
		{"reserve a sold order is a no-op", func() (Outcome, error) { return outcome(inv.Reserve(ctx, hold("o1", Line{"A", 1}))) }, Committed, nil, map[string]int{"A": 1, "B": 0}},
		{"unknown order", func() (Outcome, error) { return inv.Commit(ctx, "nobody") }, Missing, nil, map[string]int{"A": 1, "B": 0}},
		{"repeated SKUs add up", func() (Outcome, error) { return outcome(inv.Reserve(ctx, hold("o3", Line{"A", 1}, Line{"A", 1}))) }, "", ErrOutOfStock, map[string]int{"A": 1, "B": 0}},
	}
	for _, s := range steps {
		got, err := s.do()
		if !errors.Is(err, s.wantErr) || got != s.want {
			t.Fatalf("%s: got (%q, %v), want (%q, %v)", s.name, got, err, s.want, s.wantErr)
		}
		avail, err := inv.Available(ctx, "A", "B")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s.avail, avail); diff != "" {
			t.Fatalf("%s: availability (-want +got):\n%s", s.name, diff)
		}
	}
}

func TestShortErrorNamesEveryShortLine(t *testing.T) {
	inv, _ := stocked(t, testenv.NewClock(t0), map[string]int{"A": 1, "B": 0, "C": 5})
	_, err := inv.Reserve(t.Context(), hold("o", Line{"A", 2}, Line{"B", 1}, Line{"C", 5}, Line{"GONE", 1}))
	var short *ShortError
	if !errors.As(err, &short) {
		t.Fatalf("err = %v, want *ShortError", err)
	}
	want := []Shortage{{"A", 1, 2}, {"B", 0, 1}, {"GONE", 0, 1}}
	if diff := cmp.Diff(want, short.Lines); diff != "" {
		t.Errorf("short lines (-want +got):\n%s", diff)
	}
}

func TestLapsedHoldsReturnWhenTheirSKUIsReserved(t *testing.T) {
	ctx := t.Context()
	clock := testenv.NewClock(t0)
	inv, rdb := stocked(t, clock, map[string]int{"A": 1})
	if _, err := inv.Reserve(ctx, hold("old", Line{"A", 1})); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(35*time.Minute - time.Millisecond))
	if _, err := inv.Reserve(ctx, hold("early", Line{"A", 1})); !errors.Is(err, ErrOutOfStock) {
		t.Fatalf("before release_after: err = %v, want out of stock", err)
	}
	clock.Set(t0.Add(35 * time.Minute))
	if got, err := inv.Reserve(ctx, hold("new", Line{"A", 1})); err != nil || got.Outcome != Reserved {
		t.Fatalf("after release_after: (%q, %v), want reserved", got, err)
	}
	if got := rdb.Get(ctx, DoneKey("old")).Val(); got != "released" {
		t.Errorf("lapsed hold ended as %q, want released", got)
	}
	if got, _ := inv.Commit(ctx, "old"); got != Released {
		t.Errorf("a payment for the lapsed hold hears %q, want released (re-reserve)", got)
	}
}

func TestRefusesWhileRebuilding(t *testing.T) {
	ctx := t.Context()
	inv, rdb := stocked(t, testenv.NewClock(t0), map[string]int{"A": 1})
	if _, err := inv.Reserve(ctx, hold("o", Line{"A", 1})); err != nil {
		t.Fatal(err)
	}
	rdb.Del(ctx, EpochKey)
	for name, call := range map[string]func() (Outcome, error){
		"reserve": func() (Outcome, error) { return outcome(inv.Reserve(ctx, hold("p", Line{"A", 1}))) },
		"release": func() (Outcome, error) { return inv.Release(ctx, "o") },
		"commit":  func() (Outcome, error) { return inv.Commit(ctx, "o") },
	} {
		if _, err := call(); !errors.Is(err, ErrRebuilding) {
			t.Errorf("%s without the epoch: err = %v, want ErrRebuilding", name, err)
		}
	}
}

func TestScriptsSurviveAScriptFlush(t *testing.T) {
	ctx := t.Context()
	inv, rdb := stocked(t, testenv.NewClock(t0), map[string]int{"A": 2})
	if _, err := inv.Reserve(ctx, hold("o1", Line{"A", 1})); err != nil {
		t.Fatal(err)
	}
	// What a Redis restart does to cached scripts: EVALSHA then answers NOSCRIPT.
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := inv.Reserve(ctx, hold("o2", Line{"A", 1})); err != nil || got.Outcome != Reserved {
		t.Fatalf("after SCRIPT FLUSH: (%q, %v), want reserved", got, err)
	}
}

func outcome(r Reservation, err error) (Outcome, error) { return r.Outcome, err }
