package claim

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wa-shop/shop/pkg/testenv"
)

func TestOneCopyHoldsTheClaim(t *testing.T) {
	c := New(testenv.Redis(t), time.Minute)
	var won atomic.Int32
	var releases []func()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			release, ok, err := c.Take(t.Context(), "evt:1")
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
				mu.Lock()
				releases = append(releases, release)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d copies hold the claim, want 1", won.Load())
	}
	releases[0]()
	if _, ok, _ := c.Take(t.Context(), "evt:1"); !ok {
		t.Errorf("released claim cannot be taken again")
	}
}

func TestReleaseLeavesAnotherHoldersClaim(t *testing.T) {
	rdb := testenv.Redis(t)
	c := New(rdb, time.Minute)
	release, _, _ := c.Take(t.Context(), "evt:2")
	rdb.Del(t.Context(), "evt:2")                      // our lease expired...
	if _, ok, _ := c.Take(t.Context(), "evt:2"); !ok { // ...and another copy took it
		t.Fatal("expected to take the expired claim")
	}
	release() // the first holder finishes late
	if n := rdb.Exists(t.Context(), "evt:2").Val(); n != 1 {
		t.Errorf("a late release deleted another holder's claim")
	}
}
