package orders

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wa-shop/shop/pkg/claim"
	"github.com/wa-shop/shop/pkg/payments"
	"github.com/wa-shop/shop/pkg/testenv"
)

// BenchmarkCreate measures orders per second end to end: Postgres, Redis
// and the Stripe stand-in over HTTP, each order by a new customer. Compare
// with BenchmarkPostgresInsert from the same run: the target is at least
// 0.08 × the single-row insert rate.
func BenchmarkCreate(b *testing.B) {
	h := newHarness(b, map[string]int{"TEE-M": 1 << 30})
	testenv.History(b, h.db, testenv.PastOrders)
	// Many function instances share Postgres; one pool of 4 would queue the
	// benchmark's clients behind each other instead.
	h.svc.DB = widePool(b, h.db)
	h.svc.Outbox = nil // the payment link is queued, not sent: sending is the WhatsApp benchmark's
	h.svc.Now = time.Now
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := h.svc.Create(b.Context(), h.request(fmt.Sprintf("bench:%d", i), fmt.Sprintf("1%010d", i), Line{"TEE-M", 1})); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}

// BenchmarkPostgresInsert is the storage limit: single-row inserts, each its
// own transaction, from as many clients.
func BenchmarkPostgresInsert(b *testing.B) {
	db := widePool(b, testenv.DB(b))
	if _, err := db.Exec(b.Context(), `CREATE TABLE bench_rows (id bigserial PRIMARY KEY, body text NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Exec(b.Context(), `INSERT INTO bench_rows (body) VALUES ($1)`, "x"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
}

func widePool(b *testing.B, narrow *pgxpool.Pool) *pgxpool.Pool {
	cfg := narrow.Config()
	cfg.MaxConns = 16
	if mode := os.Getenv("BENCH_EXEC_MODE"); mode == "cache_statement" {
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	}
	pool, err := pgxpool.NewWithConfig(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}

// BenchmarkPaymentEvent measures signed Stripe events per second through
// payment-callback: signature check, claim, and the paid transition (Redis
// commit, one Postgres transaction, the confirmation queued). Compare with
// BenchmarkPostgresInsert: the target is at least 0.15 × its rate.
func BenchmarkPaymentEvent(b *testing.B) {
	h := newHarness(b, map[string]int{"TEE-M": 1 << 30})
	testenv.History(b, h.db, testenv.PastOrders)
	h.svc.DB = widePool(b, h.db)
	h.svc.Outbox = nil // queued, not sent: sending is the WhatsApp benchmark's
	h.svc.Now = time.Now
	callback := payments.NewCallback(webhookSecret, h.svc, claim.New(h.rdb, 0), slog.New(slog.DiscardHandler))
	// Signed beforehand: signing is Stripe's work, not the shop's.
	events := make([]*webhook.SignedPayload, b.N)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
				o, err := h.svc.Create(b.Context(), h.request(fmt.Sprintf("pay:%d", i), fmt.Sprintf("3%010d", i), Line{"TEE-M", 1}))
				if err != nil {
					b.Error(err)
					return
				}
				payload := fmt.Appendf(nil, `{"id":"evt_%d","object":"event","api_version":"2024-06-20","created":%d,
					"type":"checkout.session.completed","data":{"object":{"id":%q,"object":"checkout.session",
					"client_reference_id":%q,"payment_status":"paid","payment_intent":"pi_bench_%d","amount_total":%d,"currency":"usd"}}}`,
					i, time.Now().Unix(), o.CheckoutID, o.ID, i, o.TotalMinor)
				events[i] = webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret, Timestamp: time.Now()})
			}
		})
	}
	wg.Wait()
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			signed := events[n.Add(1)-1]
			req := httptest.NewRequest("POST", "/payment-callback", bytes.NewReader(signed.Payload))
			req.Header.Set("Stripe-Signature", signed.Header)
			rec := httptest.NewRecorder()
			callback.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
