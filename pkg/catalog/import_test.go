package catalog

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wa-shop/shop/pkg/testenv"
)

type dbProduct struct {
	ID, Group, Title, Description, Brand, Link, ImageLink string
	PriceMinor                                            int64
	Currency                                              string
}

type dbVariant struct {
	ID, SKU, Group, Title, Size, Color, Condition, Availability string
	Delta                                                       int64
	Stock                                                       int
	Metadata                                                    string
}

// snapshot reads the catalogue back, ids included: an idempotent import
// keeps the same rows, not equal copies.
func snapshot(t *testing.T, pool *pgxpool.Pool) ([]dbProduct, []dbVariant) {
	t.Helper()
	ctx := t.Context()
	rows, _ := pool.Query(ctx, `SELECT id::text, item_group_id, title, description, brand, link, image_link, price_minor, currency
		FROM products ORDER BY item_group_id`)
	products, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dbProduct])
	if err != nil {
		t.Fatalf("read products: %v", err)
	}
	rows, _ = pool.Query(ctx, `SELECT v.id::text, v.sku, p.item_group_id, v.title, v.size, v.color, v.condition,
		v.availability, v.price_delta_minor, v.stock_on_hand, v.metadata::text
		FROM variants v JOIN products p ON p.id = v.product_id ORDER BY v.sku`)
	variants, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dbVariant])
	if err != nil {
		t.Fatalf("read variants: %v", err)
	}
	return products, variants
}

func mustParse(t *testing.T, feed string) []Product {
	t.Helper()
	products, err := Parse(strings.NewReader(feed))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return products
}

func TestImportDemoFeedTwice(t *testing.T) {
	pool := testenv.DB(t)
	products, err := parseFile(t, "../../scripts/demo-catalog.csv")
	if err != nil {
		t.Fatal(err)
	}

	got, err := Import(t.Context(), pool, products)
	if err != nil {
		t.Fatalf("first Import: %v", err)
	}
	if diff := cmp.Diff(Result{ProductsInserted: 12, VariantsInserted: 22}, got); diff != "" {
		t.Errorf("first import (-want +got):\n%s", diff)
	}
	firstProducts, firstVariants := snapshot(t, pool)

	got, err = Import(t.Context(), pool, products)
	if err != nil {
		t.Fatalf("second Import: %v", err)
	}
	if diff := cmp.Diff(Result{ProductsUpdated: 12, VariantsUpdated: 22}, got); diff != "" {
		t.Errorf("second import (-want +got):\n%s", diff)
	}
	secondProducts, secondVariants := snapshot(t, pool)
	if diff := cmp.Diff(firstProducts, secondProducts); diff != "" {
		t.Errorf("products changed on re-import (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(firstVariants, secondVariants); diff != "" {
		t.Errorf("variants changed on re-import (-first +second):\n%s", diff)
	}

	// Spot-check what landed.
	for _, v := range secondVariants {
		if v.SKU == "TSHIRT-XL" {
			want := dbVariant{ID: v.ID, SKU: "TSHIRT-XL", Group: "TSHIRT", Title: "Classic Cotton T-Shirt", Size: "XL",
				Color: "White", Condition: "new", Availability: InStock, Delta: 200, Stock: 2,
				Metadata: `{"feed": {"link": "https://shop.example.com/products/classic-tshirt?size=XL", "image_link": "https://shop.example.com/images/classic-tshirt-white.jpg"}}`}
			if diff := cmp.Diff(want, v); diff != "" {
				t.Errorf("TSHIRT-XL (-want +got):\n%s", diff)
			}
		}
	}
}

func TestImportUpdatedFeed(t *testing.T) {
	pool := testenv.DB(t)
	ctx := t.Context()
	v1 := header + row("A-S", "10.00 USD", "A", "S", "5") + row("A-M", "10.00 USD", "A", "M", "3") + row("B", "4.00 USD", "", "", "1")
	if _, err := Import(ctx, pool, mustParse(t, v1)); err != nil {
		t.Fatal(err)
	}

	// A-S restocked, A-M gone, B repriced, C new.
	v2 := header + row("A-S", "10.00 USD", "A", "S", "9") + row("B", "4.50 USD", "", "", "1") + row("C", "2.00 USD", "", "", "0")
	got, err := Import(ctx, pool, mustParse(t, v2))
	if err != nil {
		t.Fatal(err)
	}
	want := Result{ProductsInserted: 1, ProductsUpdated: 2, VariantsInserted: 1, VariantsUpdated: 2,
		VariantsDiscontinued: 1, Discontinued: []string{"A-M"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Import v2 (-want +got):\n%s", diff)
	}
	type state struct {
		Availability string
		Stock        int
	}
	read := func() map[string]state {
		rows, _ := pool.Query(ctx, `SELECT sku, availability, stock_on_hand FROM variants`)
		m := map[string]state{}
		var sku string
		var s state
		if _, err := pgx.ForEachRow(rows, []any{&sku, &s.Availability, &s.Stock}, func() error { m[sku] = s; return nil }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	// The discontinued SKU keeps its row and its stock: orders refer to it.
	wantState := map[string]state{"A-S": {InStock, 9}, "A-M": {Discontinued, 3}, "B": {InStock, 1}, "C": {InStock, 0}}
	if diff := cmp.Diff(wantState, read()); diff != "" {
		t.Errorf("variants after v2 (-want +got):\n%s", diff)
	}

	// Importing v2 again discontinues nothing new; bringing A-M back revives it.
	if got, err := Import(ctx, pool, mustParse(t, v2)); err != nil || got.VariantsDiscontinued != 0 {
		t.Errorf("Import v2 again = %+v, %v; want nothing discontinued", got, err)
	}
	if _, err := Import(ctx, pool, mustParse(t, v1+row("C", "2.00 USD", "", "", "0"))); err != nil {
		t.Fatal(err)
	}
	if got := read()["A-M"]; got != (state{InStock, 3}) {
		t.Errorf("A-M after it came back = %+v, want in stock, 3", got)
	}
}

func TestImportRollsBackOnError(t *testing.T) {
	pool := testenv.DB(t)
	ctx := t.Context()
	if _, err := Import(ctx, pool, mustParse(t, header+row("A", "1.00 USD", "", "", "5")+row("B", "1.00 USD", "", "", "5"))); err != nil {
		t.Fatal(err)
	}
	beforeP, beforeV := snapshot(t, pool)

	// A restocked and repriced, C added, but C's variant breaks a constraint
	// (an empty title, which Parse would never produce) after the products
	// were written: nothing of this import may stay.
	bad := mustParse(t, header+row("A", "2.00 USD", "", "", "99")+row("C", "1.00 USD", "", "", "1"))
	bad[1].Variants[0].Title = ""
	if _, err := Import(ctx, pool, bad); err == nil || !strings.Contains(err.Error(), "variants_title_check") {
		t.Fatalf("Import with an empty title = %v, want the title CHECK to fail", err)
	}
	afterP, afterV := snapshot(t, pool)
	if diff := cmp.Diff(beforeP, afterP); diff != "" {
		t.Errorf("products changed by a failed import (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeV, afterV); diff != "" {
		t.Errorf("variants changed by a failed import (-before +after):\n%s", diff)
	}
}

func TestImportKeepsOtherMetadata(t *testing.T) {
	pool := testenv.DB(t)
	ctx := t.Context()
	products := mustParse(t, header+row("A", "1.00 USD", "", "", "5"))
	if _, err := Import(ctx, pool, products); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE variants SET metadata = metadata || '{"pos_id": 7}'`); err != nil {
		t.Fatal(err)
	}
	products[0].Variants[0].ImageLink = "https://shop.example.com/new.jpg"
	if _, err := Import(ctx, pool, products); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := pool.QueryRow(ctx, `SELECT metadata::text FROM variants`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	want := `{"feed": {"link": "https://shop.example.com/A", "image_link": "https://shop.example.com/new.jpg"}, "pos_id": 7}`
	if got != want {
		t.Errorf("metadata = %s\nwant       %s", got, want)
	}
}

func TestImportRefuses(t *testing.T) {
	pool := testenv.DB(t)
	two := mustParse(t, header+row("A", "1.00 USD", "", "", "1")+row("B", "1.00 USD", "", "", "1"))
	twice := []Product{two[0], two[1]}
	twice[1].Variants = []Variant{two[0].Variants[0]}
	tests := []struct {
		name     string
		products []Product
		want     string
	}{
		{"nothing", nil, ErrNoProducts.Error()},
		{"a SKU in two products", twice, `sku "A" appears twice`},
		{"a group twice", []Product{two[0], two[0]}, `item_group_id "A" appears in two products`},
		{"a product without variants", []Product{{ItemGroupID: "X", Title: "X", Price: Money{1, "USD"}}}, `product "X" has no variants`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Import(t.Context(), pool, tt.products)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Import error = %v, want %q", err, tt.want)
			}
		})
	}
	if !errors.Is(func() error { _, err := Import(t.Context(), pool, nil); return err }(), ErrNoProducts) {
		t.Error("Import(nil) is not ErrNoProducts")
	}
}

func TestImportConcurrently(t *testing.T) {
	pool := testenv.DB(t)
	products, err := parseFile(t, "../../scripts/demo-catalog.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Operators double-clicking: every run must succeed, one after the other.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = Import(context.WithoutCancel(t.Context()), pool, products)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("import %d: %v", i, err)
		}
	}
	p, v := snapshot(t, pool)
	if len(p) != 12 || len(v) != 22 {
		t.Errorf("after concurrent imports: %d products, %d variants; want 12, 22", len(p), len(v))
	}
}
