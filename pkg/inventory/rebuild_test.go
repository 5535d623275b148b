package inventory

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wa-shop/shop/pkg/testenv"
)

func TestRebuildRestoresAvailabilityAndHolds(t *testing.T) {
	ctx := t.Context()
	db, rdb := testenv.DB(t), testenv.Redis(t)
	mustExec(t, db, `
		INSERT INTO products (id, item_group_id, title, price_minor, currency)
		VALUES ('00000000-0000-0000-0000-0000000000a1', 'TSHIRT', 'T-shirt', 1500, 'USD');
		INSERT INTO variants (product_id, sku, title, stock_on_hand) VALUES
			('00000000-0000-0000-0000-0000000000a1', 'TSHIRT-M', 'T-shirt M', 5),
			('00000000-0000-0000-0000-0000000000a1', 'TSHIRT-L', 'T-shirt L', 2);
		INSERT INTO variants (product_id, sku, title, stock_on_hand, availability) VALUES
			('00000000-0000-0000-0000-0000000000a1', 'TSHIRT-XL', 'T-shirt XL', 4, 'discontinued');
		INSERT INTO customers (id, wa_id) VALUES ('00000000-0000-0000-0000-0000000000c1', '15550001111');
		INSERT INTO orders (id, customer_id, request_key, status, items, currency, total_minor, hold_expires_at, release_after) VALUES
			('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000c1', 'k1', 'pending_payment', '[{}]', 'USD', 4500, '2026-11-27 17:00Z', '2026-11-27 17:35Z'),
			('00000000-0000-0000-0000-0000000000b2', '00000000-0000-0000-0000-0000000000c1', 'k2', 'expired', '[{}]', 'USD', 1500, '2026-11-27 16:00Z', '2026-11-27 16:35Z');
		INSERT INTO reservations (order_id, sku, quantity, expires_at, release_after, state) VALUES
			('00000000-0000-0000-0000-0000000000b1', 'TSHIRT-M', 3, '2026-11-27 17:00Z', '2026-11-27 17:35Z', 'held'),
			('00000000-0000-0000-0000-0000000000b2', 'TSHIRT-L', 1, '2026-11-27 16:00Z', '2026-11-27 16:35Z', 'released');
	`)
	// Stale state a lost or drifted Redis might hold.
	rdb.Set(ctx, StockKey("TSHIRT-M"), 99, 0)
	rdb.HSet(ctx, HoldKey("gone"), "sku:TSHIRT-L", 1)
	rdb.ZAdd(ctx, HoldsByReleaseKey, redisZ(1, "gone"))

	got, err := New(rdb, func() time.Time { return time.Date(2026, 11, 27, 16, 30, 0, 0, time.UTC) }).Rebuild(ctx, db)
	if err != nil {
		t.Fatalf("Rebuild() = %v", err)
	}
	if diff := cmp.Diff(RebuildResult{SKUs: 3, Holds: 1}, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	type state struct {
		StockM, StockL, StockXL string
		Hold                    map[string]string
		Holds                   []string
		BySKU                   []string
		StaleHold               int64
		Epoch                   bool
	}
	want := state{
		StockM: "2", StockL: "2", StockXL: "0",
		Hold:  map[string]string{"sku:TSHIRT-M": "3", "expires_at": "1795798800000", "release_after": "1795800900000"},
		Holds: []string{"00000000-0000-0000-0000-0000000000b1"},
		BySKU: []string{"00000000-0000-0000-0000-0000000000b1"},
		Epoch: true,
	}
	gotState := state{
		StockM:    rdb.Get(ctx, StockKey("TSHIRT-M")).Val(),
		StockL:    rdb.Get(ctx, StockKey("TSHIRT-L")).Val(),
		StockXL:   rdb.Get(ctx, StockKey("TSHIRT-XL")).Val(),
		Hold:      rdb.HGetAll(ctx, HoldKey("00000000-0000-0000-0000-0000000000b1")).Val(),
		Holds:     rdb.ZRange(ctx, HoldsByReleaseKey, 0, -1).Val(),
		BySKU:     rdb.ZRange(ctx, ReservationsBySKUKey("TSHIRT-M"), 0, -1).Val(),
		StaleHold: rdb.Exists(ctx, HoldKey("gone")).Val(),
		Epoch:     rdb.Exists(ctx, EpochKey).Val() == 1,
	}
	if diff := cmp.Diff(want, gotState); diff != "" {
		t.Errorf("Redis after rebuild (-want +got):\n%s", diff)
	}
}

// A refund put back on sale counts once, whether the rebuild's snapshot saw
// it or not.
func TestRestockCountsOnceAcrossARebuild(t *testing.T) {
	ctx := t.Context()
	db, rdb := testenv.DB(t), testenv.Redis(t)
	mustExec(t, db, `
		INSERT INTO products (id, item_group_id, title, price_minor, currency)
		VALUES ('00000000-0000-0000-0000-0000000000a1', 'MUG', 'Mug', 900, 'USD');
		INSERT INTO variants (product_id, sku, title, stock_on_hand) VALUES
			('00000000-0000-0000-0000-0000000000a1', 'MUG', 'Mug', 5);
		INSERT INTO customers (id, wa_id) VALUES ('00000000-0000-0000-0000-0000000000c1', '15550001111');
		INSERT INTO orders (id, customer_id, request_key, status, items, currency, total_minor, hold_expires_at, release_after) VALUES
			('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000c1', 'k1', 'refunded', '[{}]', 'USD', 1800, now(), now());
		INSERT INTO reservations (order_id, sku, quantity, expires_at, release_after, state) VALUES
			('00000000-0000-0000-0000-0000000000b1', 'MUG', 2, now(), now(), 'returned');
	`)
	inv := New(rdb, time.Now)
	// The snapshot already counts the 2 returned units in the 5 on hand.
	if _, err := inv.Rebuild(ctx, db); err != nil {
		t.Fatal(err)
	}
	order := "00000000-0000-0000-0000-0000000000b1"
	got, err := inv.Restock(ctx, order, []Line{{"MUG", 2}})
	if err != nil || got != AlreadyRestocked {
		t.Fatalf("restock after a rebuild that saw it: (%q, %v), want already", got, err)
	}
	if n, _ := rdb.Get(ctx, StockKey("MUG")).Int(); n != 5 {
		t.Errorf("available %d, want 5", n)
	}

	// Without the rebuild having seen it, the restock adds the units, once.
	rdb.Del(ctx, DoneKey(order))
	rdb.Set(ctx, StockKey("MUG"), 3, 0)
	for _, want := range []Outcome{Restocked, AlreadyRestocked} {
		if got, err := inv.Restock(ctx, order, []Line{{"MUG", 2}}); err != nil || got != want {
			t.Fatalf("restock: (%q, %v), want %q", got, err, want)
		}
	}
	if n, _ := rdb.Get(ctx, StockKey("MUG")).Int(); n != 5 {
		t.Errorf("available %d, want 5", n)
	}
}

// A refunded order's units went back once; holding them again for it would
// let a late Restock put them back twice.
func TestARestockedOrderIsNeverHeldAgain(t *testing.T) {
	ctx := t.Context()
	inv, rdb := stocked(t, nil, map[string]int{"MUG": 3})
	rdb.Set(ctx, DoneKey("refunded"), "restocked", time.Hour)
	got, err := inv.Reserve(ctx, Hold{OrderID: "refunded", Lines: []Line{{"MUG", 1}},
		ExpiresAt: time.Now().Add(time.Hour), ReleaseAfter: time.Now().Add(2 * time.Hour)})
	if err != nil || got.Outcome == Reserved {
		t.Fatalf("reserve: (%v, %v), want refused", got, err)
	}
	if n, _ := rdb.Get(ctx, StockKey("MUG")).Int(); n != 3 || rdb.Get(ctx, DoneKey("refunded")).Val() != "restocked" {
		t.Errorf("available %d, tombstone %q; want 3 and restocked", n, rdb.Get(ctx, DoneKey("refunded")).Val())
	}
}
