package orders

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// Customers race for 20 units while Redis loses everything midway and a
// cleanup-style rebuild restores it: no SKU may be held beyond its stock,
// and Redis must end agreeing with Postgres.
func TestOrdersRaceThroughARedisFlush(t *testing.T) {
	stock := map[string]int{"TEE-S": 8, "TEE-M": 7, "TEE-L": 5}
	h := newHarness(t, stock)
	ctx := t.Context()
	skus := []string{"TEE-S", "TEE-M", "TEE-L"}
	var created, refused, unavailable atomic.Int64
	var flush sync.Once
	var wg sync.WaitGroup
	for c := range 150 {
		wg.Go(func() {
			var lines []Line
			for _, sku := range skus {
				if rand.IntN(2) == 0 {
					lines = append(lines, Line{sku, 1 + rand.IntN(2)})
				}
			}
			if len(lines) == 0 {
				lines = []Line{{skus[c%3], 1}}
			}
			_, err := h.svc.Create(ctx, h.request(fmt.Sprintf("race:%d", c), fmt.Sprintf("1555%07d", c), lines...))
			var short *OutOfStockError
			switch {
			case err == nil:
				created.Add(1)
			case errors.As(err, &short):
				refused.Add(1)
			case errors.Is(err, ErrUnavailable):
				unavailable.Add(1)
			default:
				t.Errorf("customer %d: %v", c, err)
			}
			if created.Load() == 3 {
				flush.Do(func() {
					h.rdb.FlushDB(ctx)
					if _, err := h.svc.Inventory.Rebuild(ctx, h.db); err != nil {
						t.Errorf("rebuild: %v", err)
					}
				})
			}
		})
	}
	wg.Wait()
	t.Logf("created %d, refused %d, unavailable %d", created.Load(), refused.Load(), unavailable.Load())
	if created.Load() == 0 || refused.Load() == 0 {
		t.Errorf("the race did not exercise both outcomes")
	}
	for sku, initial := range stock {
		held := h.count(t, `SELECT COALESCE(sum(quantity), 0) FROM reservations WHERE sku = $1 AND state = 'held'`, sku)
		if held > initial {
			t.Errorf("%s: %d units held for %d in stock", sku, held, initial)
		}
		if got := h.available(t, sku); got != initial-held {
			t.Errorf("%s: Redis says %d available, Postgres implies %d", sku, got, initial-held)
		}
	}
	if n := h.count(t, `SELECT count(*) FROM orders o WHERE status = 'pending_payment'
		AND EXISTS (SELECT 1 FROM reservations r WHERE r.order_id = o.id AND r.state <> 'held')`); n != 0 {
		t.Errorf("%d open orders claim holds they lack", n)
	}
	if n := h.count(t, `SELECT count(*) FROM orders WHERE status = 'pending_payment' AND checkout_session_id IS NOT NULL`); n != len(h.stripe.Sessions()) {
		t.Errorf("%d open orders with sessions, %d sessions at Stripe", n, len(h.stripe.Sessions()))
	}
}
