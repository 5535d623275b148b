package app

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/testenv"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// inbound builds the webhook handler and n signed notifications, each a
// text from a distinct customer, so every message is new work: verify,
// claim, answer (sent to the Graph stand-in over HTTP), record. post(i)
// delivers the i-th. Signing is Meta's work, so it is done beforehand.
func inbound(b *testing.B, n int, text string) (post func(i int) int) {
	b.Helper()
	handler, err := Webhook(b.Context(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	bodies := texts(n, text)
	signatures := make([]string, n)
	for i, body := range bodies {
		signatures[i] = whatsapp.SignatureHeaderValue(body, "sec")
	}
	return func(i int) int {
		req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(bodies[i]))
		req.Header.Set(whatsapp.SignatureHeader, signatures[i])
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}
}

// tradingShop is shopEnv with the past orders of a shop that has been
// trading for a while (testenv.History), so the planner sees real tables.
func tradingShop(b *testing.B) *shop {
	s := shopEnv(b)
	testenv.History(b, s.db, testenv.PastOrders)
	return s
}

// texts are n notifications of one text message, each from a new customer.
func texts(n int, text string) [][]byte {
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
			"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
			"contacts":[{"profile":{"name":"C"},"wa_id":"1%010d"}],
			"messages":[{"from":"1%010d","id":"wamid.bench%d","timestamp":"%d","type":"text","text":{"body":%q}}]}}]}]}`,
			i, i, i, time.Now().Unix(), text)
	}
	return bodies
}

// parallel posts b.N requests, each once, from 4 × GOMAXPROCS clients and
// reports the rate under the given unit.
func parallel(b *testing.B, post func(i int) int, unit string) {
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if st := post(int(n.Add(1) - 1)); st != 200 {
				b.Fatalf("status %d", st)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

// BenchmarkInboundText measures inbound messages per second through the
// webhook handler and allocations per message. Compare with
// BenchmarkPostgresInsert of the same run: the target is at least 0.25 ×
// the insert rate.
func BenchmarkInboundText(b *testing.B) {
	tradingShop(b)
	parallel(b, inbound(b, b.N, "hi"), "msgs/s")
}

// BenchmarkInboundOrder measures orders per second made through the
// webhook: a signed "buy TEE 1" from a new customer is claimed, priced,
// held in Redis, given a Checkout session by the Stripe stand-in, answered
// with its payment link (outbox, Graph stand-in) and recorded. Compare
// with BenchmarkPostgresInsert: the target is at least 0.08 × its rate.
func BenchmarkInboundOrder(b *testing.B) {
	s := tradingShop(b)
	// STRIPE_RATE_LIMIT paces one function instance, which serves one
	// request at a time; here one process stands for many instances.
	b.Setenv("STRIPE_RATE_LIMIT", "1000000")
	if _, err := s.db.Exec(b.Context(), `UPDATE variants SET stock_on_hand = 1 << 30 WHERE sku = 'TEE'`); err != nil {
		b.Fatal(err)
	}
	if _, err := inventory.Rebuild(b.Context(), s.db, s.rdb); err != nil {
		b.Fatal(err)
	}
	parallel(b, inbound(b, b.N, "buy TEE 1"), "orders/s")
}

// BenchmarkBareHTTP is the HTTP limit: a net/http server on loopback that
// reads the body and answers 200, posted a notification's worth of bytes by
// as many clients over real connections.
func BenchmarkBareHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	b.Cleanup(srv.Close)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	client := &http.Client{Transport: transport}
	body := texts(1, "hi")[0]
	parallel(b, func(int) int {
		resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Error(err)
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}, "reqs/s")
}

// BenchmarkInboundLatency sends messages at a steady rate (INBOUND_RATE, a
// rate below saturation: half of BenchmarkInboundText's) and reports the
// p50 and p99 latency. The target is p99 < 20 ms.
func BenchmarkInboundLatency(b *testing.B) {
	rate := 100.0
	if v := os.Getenv("INBOUND_RATE"); v != "" {
		if _, err := fmt.Sscan(v, &rate); err != nil || rate <= 0 {
			b.Fatal("INBOUND_RATE must be a positive number")
		}
	}
	tradingShop(b)
	post := inbound(b, b.N, "hi")
	latencies := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		wg.Go(func() {
			start := time.Now()
			if st := post(i); st != 200 {
				b.Errorf("status %d", st)
			}
			latencies[i] = time.Since(start)
		})
	}
	wg.Wait()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99_ms")
}
