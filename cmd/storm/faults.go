package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wa-shop/shop/pkg/app"
	"github.com/wa-shop/shop/pkg/cleanup"
	"github.com/wa-shop/shop/pkg/orders"
)

// fault is one thing that goes wrong once the given share of customers
// has started.
type fault struct {
	at   float64
	name string
	do   func(context.Context, *stack) error
}

// faults: the Graph API failing (5xx, then rate limits), Redis lost, Stripe
// failing, Postgres restarted. Senders retry each refusal as Meta and
// Stripe do; the shop must lose and double nothing.
var faults = []fault{
	{0.15, "Graph API answers 500 (131000) to the next 40 sends", graphFails(500, 131000)},
	{0.25, "Redis restarted empty", func(_ context.Context, st *stack) error { return st.restartRedis() }},
	{0.40, "Stripe answers 500 to the next 15 calls", func(ctx context.Context, st *stack) error {
		return control(ctx, st.stripeURL+"/_control/fail", map[string]any{"count": 15, "status": 500, "type": "api_error"}, nil)
	}},
	{0.55, "Postgres restarted", func(_ context.Context, st *stack) error { return st.restartPostgres() }},
	{0.70, "Graph API answers 429 (130429) to the next 40 sends", graphFails(429, 130429)},
}

func graphFails(status, code int) func(context.Context, *stack) error {
	return func(ctx context.Context, st *stack) error {
		return control(ctx, st.graphURL+"/_control/fail", map[string]any{"count": 40, "status": status, "code": code}, nil)
	}
}

// injectFaults fires each fault when its share of customers has started.
func (sc *scenario) injectFaults(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for _, f := range faults {
		for float64(sc.started.Load()) < f.at*float64(sc.opts.customers) {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		start := time.Now()
		outcome := "done"
		if err := f.do(ctx, sc.st); err != nil {
			outcome = "could not inject: " + err.Error()
		}
		sc.mu.Lock()
		sc.rec.faults = append(sc.rec.faults, fmt.Sprintf("at %3.0f%% of customers: %s (%s, %d ms)",
			100*f.at, f.name, outcome, time.Since(start).Milliseconds()))
		sc.mu.Unlock()
	}
}

// schedule calls the cleanup function every interval, as Netlify's
// scheduler does, until the returned stop is called.
func (sc *scenario) schedule(ctx context.Context, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sc.st.shopURL+"/.netlify/functions/cleanup", nil)
			req.Header.Set("Authorization", "Bearer "+adminKey)
			if resp, err := sc.send.client.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// cleanUntilQuiet runs cleanup until a run finds nothing to do. Its outbox
// clock runs a day ahead, so messages backing off after the faults are due
// now rather than in an hour; holds are released by the shop's own rules.
func (sc *scenario) cleanUntilQuiet(ctx context.Context) (int, error) {
	runner, err := app.CleanupRunner(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		return 0, err
	}
	runner.Outbox.Now = func() time.Time { return time.Now().Add(24 * time.Hour) }
	runner.OrphanGrace = time.Millisecond // nothing is in flight any more
	for runs := 1; runs <= 20; runs++ {
		rep, err := runner.Run(ctx)
		if err == nil && quiet(rep) {
			return runs, nil
		}
		if ctx.Err() != nil {
			return runs, fmt.Errorf("cleanup did not become quiet: %w", ctx.Err())
		}
	}
	return 20, fmt.Errorf("cleanup still had work after 20 runs")
}

func quiet(r cleanup.Report) bool {
	l, o, c := r.Lapsed, r.Outbox, r.Reconcile
	return len(r.Errors) == 0 && l == (orders.LapseReport{}) && o.Sent+o.Retrying+o.Failed+o.Skipped == 0 && !o.Stopped &&
		!c.Rebuilt && !c.RebuildRunning && !c.Superseded && c.Drifted == 0 && c.Restored == 0 && c.Extended == 0 && c.Phantoms == 0 &&
		c.OrphansWaiting+c.OrphansDropped+c.Restocked == 0
}
