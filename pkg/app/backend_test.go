package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/standin/stripe"
	"github.com/wa-shop/shop/pkg/testenv"
)

// shop is the environment shopEnv sets up.
type shop struct {
	db     *pgxpool.Pool
	rdb    *redis.Client
	graph  *graph.Server
	stripe *stripe.Server
}

// shopEnv points every builder at private stores, stocked with TEE (100)
// and LAST (1), and at the stand-ins.
func shopEnv(t testing.TB) *shop {
	t.Helper()
	db, dbURL := testenv.DBWithURL(t)
	rdb, redisURL := testenv.RedisWithURL(t)
	if _, err := db.Exec(t.Context(), `
		INSERT INTO products (id, item_group_id, title, price_minor, currency)
		VALUES ('00000000-0000-0000-0000-0000000000a1', 'TEE', 'T-shirt', 1500, 'USD')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(t.Context(), `
		INSERT INTO variants (product_id, sku, title, stock_on_hand) VALUES
			('00000000-0000-0000-0000-0000000000a1', 'TEE', 'T-shirt', 100),
			('00000000-0000-0000-0000-0000000000a1', 'LAST', 'Last one', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Rebuild(t.Context(), db, rdb); err != nil {
		t.Fatal(err)
	}
	s := &shop{db: db, rdb: rdb,
		stripe: stripe.New(stripe.Options{SecretKey: "sk_test_x", WebhookSecret: "whsec_x"}),
		graph:  graph.New(graph.Options{AccessToken: "wa", PhoneNumberID: "1"})}
	stripeSrv := httptest.NewServer(s.stripe)
	t.Cleanup(stripeSrv.Close)
	graphSrv := httptest.NewServer(s.graph)
	t.Cleanup(graphSrv.Close)
	for k, v := range map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": redisURL,
		"VERIFY_TOKEN": "tok", "WHATSAPP_APP_SECRET": "sec", "WHATSAPP_PHONE_NUMBER_ID": "1",
		"WHATSAPP_ACCESS_TOKEN": "wa", "WHATSAPP_API_BASE_URL": graphSrv.URL,
		"STRIPE_SECRET": "sk_test_x", "STRIPE_API_BASE_URL": stripeSrv.URL, "STRIPE_WEBHOOK_SECRET": "whsec_x",
		"ADMIN_API_KEY": "adm", "ORDER_API_KEY": "ord", "BACKEND_SHARED_SECRET": "shared",
	} {
		t.Setenv(k, v)
	}
	return s
}

type exchange struct {
	Status int
	Body   map[string]any
}

func post(t *testing.T, h http.Handler, body, auth, key string) exchange {
	t.Helper()
	req := httptest.NewRequest("POST", "/create-order", bytes.NewBufferString(body))
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Body)
	var got map[string]any
	_ = json.Unmarshal(raw, &got)
	// Fields that differ between any two orders.
	for _, k := range []string{"order_id", "checkout_url", "reserved_until", "request_id"} {
		if _, ok := got[k]; ok {
			got[k] = "…"
		}
	}
	return exchange{rec.Code, got}
}

func TestProxyAndInlineAnswerAlike(t *testing.T) {
	shopEnv(t)
	log := slog.New(slog.DiscardHandler)
	backendHandler, err := Backend(t.Context(), log)
	if err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewServer(backendHandler)
	defer backend.Close()

	t.Setenv("BACKEND_MODE", "inline")
	inline, err := CreateOrder(t.Context(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BACKEND_MODE", "proxy")
	t.Setenv("BACKEND_URL", backend.URL)
	proxy, err := CreateOrder(t.Context(), log)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, body, auth string
		wantStatus       int
	}{
		{"an order", `{"customer":{"wa_id":"%s","name":"Ada"},"items":[{"sku":"TEE","quantity":2}]}`, "ord", 201},
		{"a shop-front order", `{"customer":{"name":"Bo"},"items":[{"sku":"TEE","quantity":1}]}`, "ord", 201},
		{"out of stock", `{"customer":{"wa_id":"%s"},"items":[{"sku":"LAST","quantity":2}]}`, "ord", 409},
		{"unknown SKU", `{"customer":{"wa_id":"%s"},"items":[{"sku":"NOPE","quantity":1}]}`, "ord", 422},
		{"too many", `{"customer":{"wa_id":"%s"},"items":[{"sku":"TEE","quantity":99}]}`, "ord", 400},
		{"malformed JSON", `{"customer":`, "ord", 400},
		{"wrong key", `{"items":[{"sku":"TEE","quantity":1}]}`, "guess", 401},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := func(side string) string {
				if bytes.Contains([]byte(tt.body), []byte("%s")) {
					// Each side orders for customers of its own.
					return fmt.Sprintf(tt.body, fmt.Sprintf("1555%d%d", map[string]int{"inline": 1, "proxy": 2}[side], i))
				}
				return tt.body
			}
			a := post(t, inline, body("inline"), tt.auth, "")
			b := post(t, proxy, body("proxy"), tt.auth, "")
			if a.Status != tt.wantStatus {
				t.Errorf("inline status %d, want %d: %v", a.Status, tt.wantStatus, a.Body)
			}
			if diff := cmp.Diff(a, b); diff != "" {
				t.Errorf("inline and proxy differ (-inline +proxy):\n%s", diff)
			}
		})
	}
}

func TestProxyRetryWithTheSameKeyGetsTheSameOrder(t *testing.T) {
	shopEnv(t)
	log := slog.New(slog.DiscardHandler)
	backendHandler, err := Backend(t.Context(), log)
	if err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewServer(backendHandler)
	defer backend.Close()
	t.Setenv("BACKEND_MODE", "proxy")
	t.Setenv("BACKEND_URL", backend.URL)
	proxy, err := CreateOrder(t.Context(), log)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"customer":{"wa_id":"15550001"},"items":[{"sku":"TEE","quantity":1}]}`
	ids := map[string]bool{}
	for range 3 {
		req := httptest.NewRequest("POST", "/create-order", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer ord")
		req.Header.Set("Idempotency-Key", "retry-1")
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, req)
		var a orders.Answer
		_ = json.Unmarshal(rec.Body.Bytes(), &a)
		if rec.Code != 201 || rec.Header().Get("Idempotency-Key") != "retry-1" {
			t.Fatalf("status %d, key %q: %s", rec.Code, rec.Header().Get("Idempotency-Key"), rec.Body)
		}
		ids[a.OrderID] = true
	}
	if len(ids) != 1 {
		t.Errorf("three retries made %d orders", len(ids))
	}
}

func TestBackendRefusesUnsignedAndStaleRequests(t *testing.T) {
	shopEnv(t)
	h, err := Backend(t.Context(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"items":[{"sku":"TEE","quantity":1}]}`)
	for name, sig := range map[string]string{
		"bad signature":   "t=1,v1=00",
		"other secret":    orders.SignBackendRequest("", body, "other", time.Now()),
		"stale signature": orders.SignBackendRequest("", body, "shared", time.Now().Add(-10*time.Minute)),
	} {
		req := httptest.NewRequest("POST", "/create-order", bytes.NewReader(body))
		req.Header.Set(orders.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 401 {
			t.Errorf("%s: status %d, want 401", name, rec.Code)
		}
	}
	// A captured request replayed under another Idempotency-Key would make
	// another order: the key is signed too.
	req := httptest.NewRequest("POST", "/create-order", bytes.NewReader(body))
	req.Header.Set(orders.SignatureHeader, orders.SignBackendRequest("key-1", body, "shared", time.Now()))
	req.Header.Set("Idempotency-Key", "key-2")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("signed under another key: status %d, want 401", rec.Code)
	}
	for path, want := range map[string]int{"/healthz": 200} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/catalog-sync", nil))
	if rec.Code != 401 {
		t.Errorf("catalog-sync without the admin key: %d, want 401", rec.Code)
	}
}
