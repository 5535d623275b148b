package inventory

import (
	"errors"
	"fmt"
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

func TestLapsedHoldsReturnWhenStockIsShort(t *testing.T) {
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

// A reservation short of a SKU gives back that SKU's lapsed holds in
// batches, earliest first, until it fits; one with stock enough, or short of
// another SKU, leaves them to cleanup.
func TestLapsedHoldsReturnInBatchesUntilTheOrderFits(t *testing.T) {
	ctx := t.Context()
	clock := testenv.NewClock(t0)
	inv, rdb := stocked(t, clock, map[string]int{"A": 150, "B": 2})
	reserve := func(order string, releaseAfter time.Duration, line Line) {
		t.Helper()
		h := Hold{OrderID: order, Lines: []Line{line}, ExpiresAt: t0.Add(releaseAfter), ReleaseAfter: t0.Add(releaseAfter)}
		if got, err := inv.Reserve(ctx, h); err != nil || got.Outcome != Reserved {
			t.Fatalf("reserve %s: (%v, %v), want reserved", order, got, err)
		}
	}
	for i := range 150 {
		reserve(fmt.Sprintf("a%03d", i), 10*time.Minute+time.Duration(i)*time.Second, Line{"A", 1})
	}
	reserve("b", 10*time.Minute, Line{"B", 1})
	// Index entries whose holds are gone come first and count as progress.
	for i := range 120 {
		rdb.ZAdd(ctx, ReservationsBySKUKey("A"), redisZ(float64(t0.Add(5*time.Minute).UnixMilli()), fmt.Sprintf("gone%d", i)))
	}
	clock.Set(t0.Add(time.Hour))

	reserve("enough", 2*time.Hour, Line{"B", 1})
	if n := rdb.ZCard(ctx, HoldsByReleaseKey).Val(); n != 152 {
		t.Errorf("with stock enough %d holds listed, want all 152 left for cleanup", n)
	}
	// 50 of A: the first batch frees nothing (gone entries), the second
	// frees 80 units, and the order fits.
	reserve("new", 2*time.Hour, Line{"A", 50})
	if n := rdb.ZCard(ctx, ReservationsBySKUKey("A")).Val(); n != 71 {
		t.Errorf("%d entries left in A's index, want the 70 lapsed holds not needed and the new one", n)
	}
	for order, want := range map[string]string{"a000": "released", "a079": "released", "a080": "", "b": ""} {
		if got := rdb.Get(ctx, DoneKey(order)).Val(); got != want {
			t.Errorf("%s ended as %q, want %q", order, got, want)
		}
	}
	if avail, _ := inv.Available(ctx, "A", "B"); avail["A"] != 30 || avail["B"] != 0 {
		t.Errorf("available %v, want A 30, B 0", avail)
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
