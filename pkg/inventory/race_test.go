package inventory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/testenv"
)

var raceStock = map[string]int{"A": 10, "B": 6, "C": 4} // 20 units

// raceLedger counts what the racers were told, to check conservation.
type raceLedger struct {
	mu        sync.Mutex
	committed map[string]int
}

func (l *raceLedger) commit(lines []Line) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ln := range lines {
		l.committed[ln.SKU] += ln.Quantity
	}
}

// raceOptions shape one race.
type raceOptions struct {
	// shortLived is the share of holds whose release_after passes mid-race.
	shortLived float64
	// settle releases or commits holds as soon as they are taken.
	settle bool
}

// race runs 500 customers at once. Each first asks for a random multi-line
// order, then keeps taking single units of every SKU until refused, so the
// stock is exhausted whatever the interleaving.
func race(t *testing.T, opts raceOptions) (*Inventory, redis.UniversalClient, *raceLedger) {
	t.Helper()
	ctx := t.Context()
	clock := testenv.NewClock(t0)
	inv, rdb := stocked(t, clock, raceStock)
	ledger := &raceLedger{committed: map[string]int{}}
	var taken atomic.Int64
	var lapse sync.Once
	skus := []string{"A", "B", "C"}

	try := func(g, n int, lines []Line) bool {
		h := Hold{OrderID: fmt.Sprintf("g%d-%d", g, n), Lines: lines,
			ExpiresAt: t0.Add(10 * time.Minute), ReleaseAfter: t0.Add(35 * time.Minute)}
		if rand.Float64() < opts.shortLived {
			h.ExpiresAt, h.ReleaseAfter = t0.Add(time.Minute), t0.Add(time.Minute)
		}
		res, err := inv.Reserve(ctx, h)
		var short *ShortError
		switch {
		case errors.As(err, &short):
			checkShortLines(t, short, lines)
			return false
		case err != nil:
			t.Errorf("reserve %s: %v", h.OrderID, err)
			return false
		case res.Outcome != Reserved:
			t.Errorf("reserve %s: %q, want reserved", h.OrderID, res.Outcome)
		}
		if opts.shortLived > 0 && taken.Add(1) == 15 {
			lapse.Do(func() { clock.Set(t0.Add(2 * time.Minute)) })
		}
		if opts.settle {
			settle(t, inv, ledger, h)
		}
		return true
	}

	var wg sync.WaitGroup
	for g := range 500 {
		wg.Go(func() {
			n := 0
			var lines []Line
			for _, sku := range skus {
				if rand.IntN(2) == 0 {
					lines = append(lines, Line{sku, 1 + rand.IntN(2)})
				}
			}
			if len(lines) > 0 {
				try(g, n, lines)
				n++
			}
			for _, sku := range skus {
				for try(g, n, []Line{{sku, 1}}) {
					n++
				}
				n++
			}
		})
	}
	wg.Wait()
	return inv, rdb, ledger
}

// settle ends a fresh hold the way payments and cleanup would, sometimes
// twice and in conflicting ways, and records what was sold.
func settle(t *testing.T, inv *Inventory, ledger *raceLedger, h Hold) {
	ctx := context.Background()
	switch rand.IntN(5) {
	case 0:
		if got, err := inv.Commit(ctx, h.OrderID); err != nil || got != Committed {
			t.Errorf("commit %s: (%q, %v)", h.OrderID, got, err)
			return
		}
		ledger.commit(h.Lines)
		if got, _ := inv.Release(ctx, h.OrderID); got != Committed {
			t.Errorf("release after commit %s: %q, want committed", h.OrderID, got)
		}
	case 1:
		inv.Release(ctx, h.OrderID)
		if got, _ := inv.Release(ctx, h.OrderID); got != Released {
			t.Errorf("second release %s: %q, want released", h.OrderID, got)
		}
		if got, _ := inv.Commit(ctx, h.OrderID); got != Released {
			t.Errorf("commit after release %s: %q, want released", h.OrderID, got)
		}
	case 2:
		if got, _ := inv.Commit(ctx, h.OrderID); got == Committed {
			ledger.commit(h.Lines)
		}
	}
}

func checkShortLines(t *testing.T, short *ShortError, asked []Line) {
	want := map[string]int{}
	for _, l := range asked {
		want[l.SKU] += l.Quantity
	}
	if len(short.Lines) == 0 {
		t.Errorf("refusal names no line")
	}
	for _, l := range short.Lines {
		if w, ok := want[l.SKU]; !ok || l.Available >= w || l.Wanted != w {
			t.Errorf("refusal names %+v, asked %v", l, asked)
		}
	}
}

// conservation: for every SKU, what is available, what live holds keep and
// what was sold add up to the initial stock, and nothing is negative.
func checkConservation(t *testing.T, rdb redis.UniversalClient, ledger *raceLedger) map[string]int {
	t.Helper()
	ctx := t.Context()
	held := map[string]int{}
	for _, order := range rdb.ZRange(ctx, HoldsByReleaseKey, 0, -1).Val() {
		for field, qty := range rdb.HGetAll(ctx, HoldKey(order)).Val() {
			if sku, ok := strings.CutPrefix(field, "sku:"); ok {
				var n int
				fmt.Sscan(qty, &n)
				held[sku] += n
			}
		}
	}
	for sku, initial := range raceStock {
		available, _ := rdb.Get(ctx, StockKey(sku)).Int()
		if available < 0 {
			t.Errorf("%s: availability %d below zero", sku, available)
		}
		if got := available + held[sku] + ledger.committed[sku]; got != initial {
			t.Errorf("%s: available %d + held %d + sold %d = %d, want %d",
				sku, available, held[sku], ledger.committed[sku], got, initial)
		}
	}
	return held
}

func TestRaceHoldsExactlyTheStock(t *testing.T) {
	_, rdb, ledger := race(t, raceOptions{})
	held := checkConservation(t, rdb, ledger)
	total := 0
	for sku, n := range held {
		total += n
		if n != raceStock[sku] {
			t.Errorf("%s: %d units held, want all %d", sku, n, raceStock[sku])
		}
	}
	if total != 20 {
		t.Errorf("%d units held, want 20", total)
	}
}

func TestRaceWithHoldsLapsingMidway(t *testing.T) {
	_, rdb, ledger := race(t, raceOptions{shortLived: 0.3})
	checkConservation(t, rdb, ledger)
}

func TestRaceWithReleasesAndCommitsInterleaved(t *testing.T) {
	_, rdb, ledger := race(t, raceOptions{settle: true})
	checkConservation(t, rdb, ledger)
}
