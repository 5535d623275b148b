package conversation

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/testenv"
)

// TestShelfCountsAtMostOncePerTTL: availability is reused for countTTL, so
// a burst of greetings costs one Redis read, and read again after it, so
// what sold out stops being offered.
func TestShelfCountsAtMostOncePerTTL(t *testing.T) {
	rdb := testenv.Redis(t)
	inv := inventory.New(rdb, time.Now)
	set := func(n int) {
		if err := rdb.Set(t.Context(), inventory.StockKey("TEE"), n, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var s shelf
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	count := func(at time.Time) map[string]int {
		t.Helper()
		got, err := s.count(t.Context(), inv, []string{"TEE"}, at)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	set(3)
	count(t0)
	set(0)
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{t0, 3},
		{t0.Add(countTTL - time.Millisecond), 3},
		{t0.Add(countTTL), 0},
		{t0.Add(-time.Second), 0}, // a clock that went back reads again
	} {
		if diff := cmp.Diff(map[string]int{"TEE": tc.want}, count(tc.at)); diff != "" {
			t.Errorf("at %v (-want +got):\n%s", tc.at.Sub(t0), diff)
		}
	}
}
