package orders

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/claim"
	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/payments"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/standin/stripe"
	"github.com/wa-shop/shop/pkg/testenv"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// harness is the shop's order path on real Postgres and Redis, with the
// Stripe and Graph API stand-ins over HTTP.
type harness struct {
	callbackURL string
	db          *pgxpool.Pool
	rdb         *redis.Client
	clock       *testenv.Clock
	stripe      *stripe.Server
	graph       *graph.Server
	svc         *Service
}

// newHarness stocks a T-shirt in sizes S/M/L (15.00 USD, L +2.00), a mug
// priced in EUR and a discontinued cap.
func newHarness(t testing.TB, stock map[string]int) *harness {
	t.Helper()
	h := &harness{db: testenv.DB(t), rdb: testenv.Redis(t), clock: testenv.NewClock(t0)}
	exec(t, h.db, `
		INSERT INTO products (id, item_group_id, title, price_minor, currency) VALUES
			('00000000-0000-0000-0000-00000000000a', 'TEE', 'T-shirt', 1500, 'USD'),
			('00000000-0000-0000-0000-00000000000b', 'MUG', 'Mug', 900, 'EUR'),
			('00000000-0000-0000-0000-00000000000c', 'CAP', 'Cap', 1200, 'USD')`)
	for sku, n := range stock {
		exec(t, h.db, `INSERT INTO variants (product_id, sku, title, stock_on_hand, price_delta_minor)
			VALUES ('00000000-0000-0000-0000-00000000000a', $1, $1, $2, CASE WHEN $1 = 'TEE-L' THEN 200 ELSE 0 END)`, sku, n)
	}
	exec(t, h.db, `INSERT INTO variants (product_id, sku, title, stock_on_hand) VALUES
		('00000000-0000-0000-0000-00000000000b', 'MUG', 'Mug', 50)`)
	exec(t, h.db, `INSERT INTO variants (product_id, sku, title, stock_on_hand, availability) VALUES
		('00000000-0000-0000-0000-00000000000c', 'CAP', 'Cap', 5, 'discontinued')`)

	// payment-callback, served before the stand-in that posts to it exists;
	// its handler is set once the service is built.
	callback := &lateHandler{}
	callbackSrv := httptest.NewServer(callback)
	t.Cleanup(callbackSrv.Close)
	h.callbackURL = callbackSrv.URL
	h.stripe = stripe.New(stripe.Options{SecretKey: "sk_test_orders", Now: h.clock.Now,
		WebhookURL: callbackSrv.URL, WebhookSecret: webhookSecret})
	stripeSrv := httptest.NewServer(h.stripe)
	t.Cleanup(stripeSrv.Close)
	h.graph = graph.New(graph.Options{AccessToken: "wa-token", PhoneNumberID: "100"})
	graphSrv := httptest.NewServer(h.graph)
	t.Cleanup(graphSrv.Close)

	checkout, err := payments.NewCheckout(config.StripeAPI{
		Secret: "sk_test_orders", BaseURL: stripeSrv.URL, SuccessURL: "https://shop.example/ok",
		CancelURL: "https://shop.example/cancel", RateLimit: 1000,
	}, payments.WithClock(h.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	inv := inventory.New(h.rdb, h.clock.Now)
	if _, err := inv.Rebuild(t.Context(), h.db); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	sender := whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: graphSrv.URL, Version: "v25.0", PhoneNumberID: "100", AccessToken: "wa-token"})
	h.svc = &Service{
		DB: h.db, Inventory: inv, Checkout: checkout,
		Outbox: &outbox.Outbox{DB: h.db, Sender: sender, Now: h.clock.Now, Log: log},
		Now:    h.clock.Now, TTL: 10 * time.Minute, MaxQuantity: 5, Log: log,
		Templates: Templates{Confirmation: "order_confirmation", Language: "en"},
	}
	callback.set(payments.NewCallback(webhookSecret, h.svc, claim.New(h.rdb, 0), log))
	return h
}

const webhookSecret = "whsec_orders"

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

func exec(t testing.TB, db *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(t.Context(), sql, args...); err != nil {
		t.Fatalf("fixture: %v", err)
	}
}

func (h *harness) request(key, waID string, lines ...Line) Request {
	return Request{Customer: Customer{WaID: waID, Name: "Ada"}, Lines: lines, Key: key}
}

// available reads Redis availability of one SKU.
func (h *harness) available(t *testing.T, sku string) int {
	t.Helper()
	n, err := h.rdb.Get(t.Context(), inventory.StockKey(sku)).Int()
	if err != nil {
		t.Fatalf("availability of %s: %v", sku, err)
	}
	return n
}

// count runs a counting query.
func (h *harness) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := h.db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

// reservationStates lists an order's reservation states by SKU.
func (h *harness) reservationStates(t *testing.T, orderID string) map[string]string {
	t.Helper()
	rows, err := h.db.Query(t.Context(), `SELECT sku, state FROM reservations WHERE order_id = $1`, orderID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var sku, state string
		if err := rows.Scan(&sku, &state); err != nil {
			t.Fatal(err)
		}
		out[sku] = state
	}
	return out
}
