package app

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/orders"
)

// FuzzCreateOrder sends create-order (inline, with the right key) whatever
// body the fuzzer makes, against real Postgres and Redis. The answer must
// be the one the request deserves, read independently here: 413 over
// 64 KiB; 400 for anything that is not one JSON value of the documented
// shape or orders nothing valid (no items, a blank SKU, a quantity below 1,
// more than MAX_QUANTITY_PER_ORDER of a SKU); 422 for a SKU we do not sell;
// otherwise 201, or 409 once stock runs short. Never a 5xx. A 201's order
// holds exactly the lines asked for (same SKUs merged), priced from the
// catalogue; any answer but 201 and 409 writes nothing anywhere.
func FuzzCreateOrder(f *testing.F) {
	for _, seed := range []string{
		`{"customer":{"wa_id":"15550001","name":"Ada"},"items":[{"sku":"TEE","quantity":2}]}`,
		`{"customer":{"name":"Bo"},"items":[{"sku":"TEE","quantity":1},{"sku":" TEE ","quantity":2},{"sku":"LAST","quantity":1}]}`,
		`{"items":[{"sku":"LAST","quantity":2}]}`,
		`{"customer":{"wa_id":"15550002"},"items":[{"sku":"NOPE","quantity":1},{"sku":"TEE","quantity":1}]}`,
		`{"items":[{"sku":"TEE","quantity":6},{"sku":"TEE","quantity":5}]}`,
		`{"items":[{"sku":"TEE","quantity":-1}]}`,
		`{"items":[{"sku":"TEE","quantity":0}]}`,
		`{"items":[{"sku":"TEE","quantity":1e30}]}`,
		`{"items":[{"sku":"TEE","quantity":"1"}]}`,
		`{"items":[{"sku":"","quantity":1}]}`,
		`{"items":[]}`,
		`{"ITEMS":[{"SKU":"TEE","Quantity":1}],"Customer":{"WA_ID":"15550003"},"extra":{"a":[1,2,{}]}}`,
		`{"items":[{"sku":"TEE","quantity":1}]} trailing`,
		`{"items":[{"sku":"x'; DROP TABLE orders;--","quantity":1}]}`,
		`{"customer":{"wa_id":"15550004","user_id":"US.123"},"items":[{"sku":"te\u00e9","quantity":1}]}`,
		`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`,
		"{\"items\":[{\"sku\":\"TEE\xff\",\"quantity\":1}]}",
		``,
		`null`,
	} {
		f.Add([]byte(seed))
	}

	s := shopEnv(f)
	// Enough T-shirts that the fuzzer's orders never run them out: Redis is
	// rebuilt from Postgres, as after its loss.
	if _, err := s.db.Exec(f.Context(), `UPDATE variants SET stock_on_hand = 1000000 WHERE sku = 'TEE'`); err != nil {
		f.Fatal(err)
	}
	if err := s.rdb.FlushDB(f.Context()).Err(); err != nil {
		f.Fatal(err)
	}
	if _, err := inventory.Rebuild(f.Context(), s.db, s.rdb); err != nil {
		f.Fatal(err)
	}
	h, err := CreateOrder(f.Context(), slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	const maxQuantity = 10 // MAX_QUANTITY_PER_ORDER's default

	f.Fuzz(func(t *testing.T, body []byte) {
		want := expectedOrder(body, maxQuantity)
		before := orderState(t, s)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/create-order", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer ord")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		switch {
		case want.status == http.StatusCreated && (rec.Code == http.StatusCreated || rec.Code == http.StatusConflict):
		case rec.Code != want.status:
			t.Fatalf("status %d, want %d: %s", rec.Code, want.status, rec.Body)
		}
		switch rec.Code {
		case http.StatusCreated:
			var a orders.Answer
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatalf("201 answer %s: %v", rec.Body, err)
			}
			got := storedOrder(t, s, a.OrderID)
			if want.order.Customer == "" && strings.HasPrefix(got.Customer, "guest:") {
				got.Customer = "" // a shop-front order's customer of its own
			}
			if diff := cmp.Diff(want.order, got); diff != "" {
				t.Fatalf("order %s (-want +stored):\n%s", a.OrderID, diff)
			}
		case http.StatusConflict:
			// Out of stock: the refused order is kept, cancelled, so a retry
			// with the same key gets the same answer.
		default:
			if diff := cmp.Diff(before, orderState(t, s)); diff != "" {
				t.Fatalf("status %d wrote (-before +after):\n%s", rec.Code, diff)
			}
		}
	})
}

// fuzzOrder is what a 201 must have stored.
type fuzzOrder struct {
	Status   string
	Currency string
	Total    int64
	Items    []orders.Item
	Held     map[string]int // reservations: quantity per SKU
	Customer string         // wa_id; none for a shop-front order
}

type expected struct {
	status int
	order  fuzzOrder
}

// catalogue is what shopEnv sells.
var catalogue = map[string]orders.Item{
	"TEE":  {SKU: "TEE", Title: "T-shirt", UnitPriceMinor: 1500},
	"LAST": {SKU: "LAST", Title: "T-shirt — Last one", UnitPriceMinor: 1500},
}

// expectedOrder reads body as README's create-order describes it, apart
// from the handler's code, and says how it must be answered.
func expectedOrder(body []byte, maxQuantity int) expected {
	if len(body) > 64<<10 {
		return expected{status: http.StatusRequestEntityTooLarge}
	}
	var in struct {
		Customer orders.Customer `json:"customer"`
		Items    []orders.Line   `json:"items"`
	}
	// One JSON value and nothing after it; as encoding/json reads it, names
	// match in any case.
	if err := json.Unmarshal(body, &in); err != nil || len(in.Items) == 0 {
		return expected{status: http.StatusBadRequest}
	}
	sums := map[string]*big.Int{}
	for _, l := range in.Items {
		sku := strings.TrimSpace(l.SKU)
		if sku == "" || !plain(sku, 100) || l.Quantity < 1 {
			return expected{status: http.StatusBadRequest}
		}
		if sums[sku] == nil {
			sums[sku] = new(big.Int)
		}
		sums[sku].Add(sums[sku], big.NewInt(int64(l.Quantity)))
	}
	skus := make([]string, 0, len(sums))
	for sku, q := range sums {
		if !q.IsInt64() {
			return expected{status: http.StatusBadRequest}
		}
		if q.Int64() > int64(maxQuantity) {
			return expected{status: http.StatusBadRequest}
		}
		skus = append(skus, sku)
	}
	slices.Sort(skus)
	c := in.Customer
	// WhatsApp ids are short and printable; a name is tidied, never refused.
	if !plain(c.WaID, 140) || !plain(c.UserID, 140) || strings.HasPrefix(c.WaID, "guest:") {
		return expected{status: http.StatusBadRequest}
	}
	o := fuzzOrder{Status: orders.StatusPendingPayment, Currency: "USD", Held: map[string]int{}, Customer: c.WaID}
	for _, sku := range skus {
		it, ok := catalogue[sku]
		if !ok {
			return expected{status: http.StatusUnprocessableEntity}
		}
		it.Quantity = int(sums[sku].Int64())
		o.Items = append(o.Items, it)
		o.Total += it.UnitPriceMinor * int64(it.Quantity)
		o.Held[sku] = it.Quantity
	}
	return expected{status: http.StatusCreated, order: o}
}

// plain: valid UTF-8 of at most max characters, no control characters.
func plain(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max && !strings.ContainsFunc(s, unicode.IsControl)
}

func storedOrder(t *testing.T, s *shop, id string) fuzzOrder {
	t.Helper()
	var o fuzzOrder
	var items []byte
	err := s.db.QueryRow(t.Context(), `SELECT o.status, o.currency, o.total_minor, o.items, c.wa_id
		FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1`, id).
		Scan(&o.Status, &o.Currency, &o.Total, &items, &o.Customer)
	if err != nil {
		t.Fatalf("order %s: %v", id, err)
	}
	if err := json.Unmarshal(items, &o.Items); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(o.Items, func(a, b orders.Item) int { return strings.Compare(a.SKU, b.SKU) })
	rows, _ := s.db.Query(t.Context(), `SELECT sku, quantity FROM reservations WHERE order_id = $1 AND state = 'held'`, id)
	held, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		SKU      string
		Quantity int
	}])
	if err != nil {
		t.Fatal(err)
	}
	o.Held = map[string]int{}
	for _, r := range held {
		o.Held[r.SKU] += r.Quantity
	}
	return o
}

// orderState is what order creation may write: rows, and the inventory.
func orderState(t *testing.T, s *shop) map[string]string {
	t.Helper()
	out := redisState(t, s.rdb)
	for _, table := range []string{"customers", "orders", "reservations", "outbox"} {
		var n string
		if err := s.db.QueryRow(t.Context(), `SELECT count(*)::text FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}
