package outbox

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func enqueueN(t *testing.T, o *Outbox, n int) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = enqueue(t, o.DB, reply("reply"))
	}
	return ids
}

func TestRetryDueHonoursTheLimitOldestFirst(t *testing.T) {
	sender := newFakeSender()
	o, _ := newOutbox(t, sender)
	ids := enqueueN(t, o, 5)

	rep, err := o.RetryDue(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Report{Sent: 2}, rep); diff != "" {
		t.Errorf("first run (-want +got):\n%s", diff)
	}
	for i, id := range ids {
		if got, want := sender.Sent(id), map[bool]int{true: 1, false: 0}[i < 2]; got != want {
			t.Errorf("row %d sent %d times, want %d", i, got, want)
		}
	}
	rep, err = o.RetryDue(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Report{Sent: 3}, rep); diff != "" {
		t.Errorf("second run (-want +got):\n%s", diff)
	}
}

func TestRetryDueCountsEachOutcome(t *testing.T) {
	sender := newFakeSender(nil, errUpstream, &PermanentError{Err: errUpstream})
	o, _ := newOutbox(t, sender)
	enqueueN(t, o, 3)

	rep, err := o.RetryDue(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Report{Sent: 1, Retrying: 1, Failed: 1}, rep); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// A deadline too close for one more send stops the run before it starts a
// send it could not see through.
func TestRetryDueStopsBeforeTheDeadline(t *testing.T) {
	sender := newFakeSender()
	o, _ := newOutbox(t, sender)
	ids := enqueueN(t, o, 3)

	ctx, cancel := context.WithTimeout(t.Context(), DefaultSendTimeout) // < send + record
	defer cancel()
	rep, err := o.RetryDue(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Report{Stopped: true}, rep); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	for _, id := range ids {
		if r := readRow(t, o.DB, id); r.Status != StatusPending || r.Attempts != 0 {
			t.Errorf("row left as %+v, want untouched", r)
		}
	}
}

func TestRetryDueStopsWhenTheContextEnds(t *testing.T) {
	sender := newFakeSender()
	o, _ := newOutbox(t, sender)
	enqueueN(t, o, 5)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var sends int
	sender.onSend = func() {
		if sends++; sends == 2 {
			cancel() // the platform's deadline arrives during the second send
		}
	}
	rep, err := o.RetryDue(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	// The second send's result is still recorded: the send happened.
	if diff := cmp.Diff(Report{Sent: 2, Stopped: true}, rep); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	var pending int
	if err := o.DB.QueryRow(t.Context(), `SELECT count(*) FROM outbox WHERE status = 'pending'`).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 3 {
		t.Errorf("pending rows = %d, want 3 left for the next run", pending)
	}
}

func TestRetryDueSkipsRowsNotDue(t *testing.T) {
	sender := newFakeSender(errUpstream)
	o, clk := newOutbox(t, sender)
	id := enqueue(t, o.DB, reply("reply"))
	if got := deliver(t, o, id); got != Retrying {
		t.Fatalf("Deliver = %s, want retrying", got)
	}
	if rep, _ := o.RetryDue(t.Context(), 10); rep != (Report{}) {
		t.Errorf("RetryDue before the retry time = %+v, want nothing", rep)
	}
	clk.Advance(transientBase)
	if rep, _ := o.RetryDue(t.Context(), 10); rep != (Report{Sent: 1}) {
		t.Errorf("RetryDue at the retry time = %+v, want one sent", rep)
	}
}

// Overlapping cleanup runs and after-commit Delivers, as in production:
// every row goes out exactly once.
func TestConcurrentRunsSendEachRowOnce(t *testing.T) {
	sender := newFakeSender()
	o, clk := newOutbox(t, sender)
	ids := enqueueN(t, o, 30)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var total Report
	for g := range 20 {
		wg.Go(func() {
			if g%4 == 0 { // some goroutines are the functions that enqueued
				for _, id := range ids {
					if _, err := o.Deliver(t.Context(), id); err != nil {
						t.Error(err)
					}
				}
				return
			}
			rep, err := o.RetryDue(t.Context(), 100)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total.Sent += rep.Sent
			mu.Unlock()
		})
	}
	wg.Wait()
	clk.Advance(time.Hour) // nothing is left for later either
	if rep, err := o.RetryDue(t.Context(), 100); err != nil || rep != (Report{}) {
		t.Errorf("later run = %+v, %v; want nothing", rep, err)
	}
	for i, id := range ids {
		if calls := sender.Calls(id); calls != 1 {
			t.Errorf("row %d: sender called %d times, want 1", i, calls)
		}
		if r := readRow(t, o.DB, id); r.Status != StatusSent {
			t.Errorf("row %d status %s, want sent", i, r.Status)
		}
	}
}
