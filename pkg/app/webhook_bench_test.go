package app

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wa-shop/shop/pkg/whatsapp"
)

// inbound builds the webhook handler and n signed "hi" notifications from
// distinct customers, so every message is new work: verify, claim, check,
// answer (the catalogue, sent to the Graph stand-in over HTTP), record.
func inbound(b *testing.B, n int) (post func(body []byte) int, bodies [][]byte) {
	shopEnv(b)
	handler, err := Webhook(b.Context(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	bodies = make([][]byte, n)
	for i := range bodies {
		bodies[i] = fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
			"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
			"contacts":[{"profile":{"name":"C"},"wa_id":"1%010d"}],
			"messages":[{"from":"1%010d","id":"wamid.bench%d","timestamp":"%d","type":"text","text":{"body":"hi"}}]}}]}]}`,
			i, i, i, time.Now().Unix())
	}
	return func(body []byte) int {
		req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
		req.Header.Set(whatsapp.SignatureHeader, whatsapp.SignatureHeaderValue(body, "sec"))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}, bodies
}

// BenchmarkInboundText measures inbound messages per second through the
// webhook handler and allocations per message. Compare with
// BenchmarkPostgresInsert of the same run: the target is at least 0.25 ×
// the insert rate.
func BenchmarkInboundText(b *testing.B) {
	post, bodies := inbound(b, b.N)
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if st := post(bodies[n.Add(1)-1]); st != 200 {
				b.Fatalf("status %d", st)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
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
	post, bodies := inbound(b, b.N)
	latencies := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		wg.Go(func() {
			start := time.Now()
			if st := post(bodies[i]); st != 200 {
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
