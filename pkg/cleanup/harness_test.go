package cleanup

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/claim"
	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/payments"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/standin/stripe"
	"github.com/wa-shop/shop/pkg/testenv"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const webhookSecret = "whsec_cleanup"

// harness is the shop on real Postgres and Redis with the Stripe and Graph
// stand-ins over HTTP, and a cleanup Runner on it.
type harness struct {
	db     *pgxpool.Pool
	rdb    *redis.Client
	clock  *testenv.Clock
	stripe *stripe.Server
	graph  *graph.Server
	svc    *orders.Service
	runner *Runner

	mu          sync.Mutex
	expireTimes []time.Time // wall-clock times Stripe received expire calls
}

// newHarness stocks TEE-M and TEE-L (T-shirts, 15.00 USD); stripeRate is
// the Checkout client's STRIPE_RATE_LIMIT.
func newHarness(t testing.TB, stock map[string]int, stripeRate float64) *harness {
	t.Helper()
	h := &harness{db: testenv.DB(t), rdb: testenv.Redis(t), clock: testenv.NewClock(t0)}
	if _, err := h.db.Exec(t.Context(), `INSERT INTO products (id, item_group_id, title, price_minor, currency)
		VALUES ('00000000-0000-0000-0000-00000000000a', 'TEE', 'T-shirt', 1500, 'USD')`); err != nil {
		t.Fatal(err)
	}
	for sku, n := range stock {
		if _, err := h.db.Exec(t.Context(), `INSERT INTO variants (product_id, sku, title, stock_on_hand)
			VALUES ('00000000-0000-0000-0000-00000000000a', $1, $1, $2)`, sku, n); err != nil {
			t.Fatal(err)
		}
	}
	callback := &lateHandler{}
	callbackSrv := httptest.NewServer(callback)
	t.Cleanup(callbackSrv.Close)
	h.stripe = stripe.New(stripe.Options{SecretKey: "sk_test_cleanup", Now: h.clock.Now,
		WebhookURL: callbackSrv.URL, WebhookSecret: webhookSecret})
	stripeSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/expire") {
			h.mu.Lock()
			h.expireTimes = append(h.expireTimes, time.Now())
			h.mu.Unlock()
		}
		h.stripe.ServeHTTP(w, r)
	}))
	t.Cleanup(stripeSrv.Close)
	h.graph = graph.New(graph.Options{AccessToken: "wa-token", PhoneNumberID: "100"})
	graphSrv := httptest.NewServer(h.graph)
	t.Cleanup(graphSrv.Close)

	// No stripe-go retries: an injected failure is one failed call.
	checkout, err := payments.NewCheckout(config.StripeAPI{
		Secret: "sk_test_cleanup", BaseURL: stripeSrv.URL, SuccessURL: "https://shop.example/ok",
		CancelURL: "https://shop.example/cancel", RateLimit: stripeRate,
	}, payments.WithClock(h.clock.Now), payments.WithMaxNetworkRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	inv := inventory.New(h.rdb, h.clock.Now)
	if _, err := inv.Rebuild(t.Context(), h.db); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	sender := whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: graphSrv.URL, Version: "v25.0", PhoneNumberID: "100", AccessToken: "wa-token"})
	box := &outbox.Outbox{DB: h.db, Sender: sender, Now: h.clock.Now, Log: log}
	h.svc = &orders.Service{DB: h.db, Inventory: inv, Checkout: checkout, Outbox: box, Now: h.clock.Now,
		TTL: 10 * time.Minute, MaxQuantity: 5, Log: log, Templates: orders.Templates{Confirmation: "order_confirmation", Language: "en"}}
	callback.set(payments.NewCallback(webhookSecret, h.svc, claim.New(h.rdb, 0), log))
	h.runner = &Runner{DB: h.db, Orders: h.svc, Outbox: box, Log: log}
	return h
}

// lateHandler serves a handler set after the server starts.
type lateHandler struct {
	mu sync.Mutex
	h  http.Handler
}

func (l *lateHandler) set(h http.Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h = h
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	h := l.h
	l.mu.Unlock()
	h.ServeHTTP(w, r)
}

// order creates an order of n units of sku for customer i.
func (h *harness) order(t testing.TB, i int, sku string, n int) *orders.Order {
	t.Helper()
	o, err := h.svc.Create(t.Context(), orders.Request{Key: fmt.Sprintf("cleanup:%d", i),
		Customer: orders.Customer{WaID: waID(i), Name: "Ada"}, Lines: []orders.Line{{SKU: sku, Quantity: n}}})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func waID(i int) string { return fmt.Sprintf("1555030%04d", i) }

func (h *harness) count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := h.db.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// redisState is availability per SKU and each hold's fields, as Redis has them.
func (h *harness) redisState(t testing.TB) map[string]map[string]string {
	t.Helper()
	ctx := t.Context()
	out := map[string]map[string]string{"stock": {}}
	for _, k := range h.rdb.Keys(ctx, "{inv}:stock:*").Val() {
		out["stock"][strings.TrimPrefix(k, "{inv}:stock:")] = h.rdb.Get(ctx, k).Val()
	}
	for _, k := range h.rdb.Keys(ctx, "{inv}:hold:*").Val() {
		out[k] = h.rdb.HGetAll(ctx, k).Val()
	}
	return out
}

// implied is what Postgres says Redis should hold: on hand less held units
// per SKU, and one hold per order with held reservations.
func (h *harness) implied(t testing.TB) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{"stock": {}}
	rows, err := h.db.Query(t.Context(), `SELECT v.sku, v.stock_on_hand - COALESCE(sum(r.quantity), 0)
		FROM variants v LEFT JOIN reservations r ON r.sku = v.sku AND r.state = 'held' GROUP BY v.sku, v.stock_on_hand`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var sku string
		var n int
		rows.Scan(&sku, &n)
		out["stock"][sku] = fmt.Sprint(n)
	}
	rows, err = h.db.Query(t.Context(), `SELECT order_id::text, sku, quantity, floor(extract(epoch FROM expires_at) * 1000)::bigint,
		floor(extract(epoch FROM release_after) * 1000)::bigint FROM reservations WHERE state = 'held'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, sku string
		var n int
		var expires, release int64
		rows.Scan(&id, &sku, &n, &expires, &release)
		key := inventory.HoldKey(id)
		if out[key] == nil {
			out[key] = map[string]string{"expires_at": fmt.Sprint(expires), "release_after": fmt.Sprint(release)}
		}
		out[key]["sku:"+sku] = fmt.Sprint(n)
	}
	return out
}

// lapsedMessages counts the expiry notices the Graph API received per customer.
func (h *harness) lapsedMessages(i int) int {
	n := 0
	for _, m := range h.graph.Messages(waID(i)) {
		if strings.Contains(string(m.Body), "lapsed") {
			n++
		}
	}
	return n
}
