package inventory

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkReserve measures holds per second through reserve.lua: one unit
// of one SKU per order, from many clients at once, as a rush would.
// Compare with BenchmarkRawEvalSHA from the same run: the target is at
// least half of Redis's rate for a trivial script.
func BenchmarkReserve(b *testing.B) {
	inv, _ := stocked(b, nil, map[string]int{"A": 1 << 30})
	var n atomic.Int64
	expires := time.Now().Add(time.Hour)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("bench-%d", n.Add(1))
			if _, err := inv.Reserve(b.Context(), Hold{OrderID: id, Lines: []Line{{"A", 1}},
				ExpiresAt: expires, ReleaseAfter: expires.Add(time.Hour)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "holds/s")
}

// BenchmarkRawEvalSHA is the machine's limit for this work: EVALSHA of a
// script that does nothing, over the same client and parallelism.
func BenchmarkRawEvalSHA(b *testing.B) {
	_, rdb := stocked(b, nil, nil)
	trivial := redis.NewScript("return 1")
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := trivial.Run(b.Context(), rdb, []string{EpochKey}).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}
