package claim

import (
	"context"
	"errors"
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

func TestOnceDoesTheWorkOnceAndGivesTheClaimBackOnFailure(t *testing.T) {
	c := New(testenv.Redis(t), time.Minute)
	ctx := t.Context()
	var finished, runs atomic.Int32
	done := func(context.Context) (bool, error) { return finished.Load() > 0, nil }
	work := func(context.Context) error {
		runs.Add(1)
		finished.Store(1)
		return nil
	}
	failing := func(context.Context) error { return errors.New("Postgres is down") }

	if err := c.Once(ctx, "k", done, failing); err == nil {
		t.Fatal("a failed work returned nil")
	}
	// The failure gave the claim back: the retry works at once.
	holding := make(chan struct{})
	proceed := make(chan struct{})
	result := make(chan error)
	go func() {
		result <- c.Once(ctx, "k", done, func(ctx context.Context) error {
			close(holding)
			<-proceed
			return work(ctx)
		})
	}()
	select {
	case <-holding:
	case err := <-result:
		t.Fatalf("the retry did not get the claim back: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the retry never started its work")
	}
	if err := c.Once(ctx, "k", done, work); !errors.Is(err, ErrHeld) {
		t.Errorf("a copy while the first is at work: %v, want ErrHeld", err)
	}
	close(proceed)
	if err := <-result; err != nil {
		t.Fatalf("retry: %v", err)
	}
	if err := c.Once(ctx, "k", done, work); err != nil {
		t.Errorf("a copy after the work is done: %v, want nil", err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("work ran %d times, want 1", n)
	}
}

func TestOnceGivesTheClaimBackWhenWorkPanics(t *testing.T) {
	c := New(testenv.Redis(t), time.Minute)
	notDone := func(context.Context) (bool, error) { return false, nil }
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		_ = c.Once(t.Context(), "evt:panic", notDone, func(context.Context) error { panic("bug") })
	}()
	ran := false
	if err := c.Once(t.Context(), "evt:panic", notDone, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("after a panic: err %v, ran %v; want the claim free and the work done", err, ran)
	}
}
