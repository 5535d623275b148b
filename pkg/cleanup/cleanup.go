// Package cleanup is the shop's self-healing run, scheduled every minute:
// it returns lapsed holds nobody can pay any more, retries the outbox,
// makes Redis agree with Postgres again, and deletes the records of
// deliveries too old to come again.
//
// A run is bounded by its deadline (DefaultTimeout, under the 30 s a
// Netlify scheduled function has) and by per-step limits, and leaves what
// it cannot finish to the next run. Runs may overlap (Netlify can overlap,
// cron can double-fire): every step takes its work with a row lock, a lease
// or a conditional update, so two runs share the work and do none twice.
package cleanup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/outbox"
)

const (
	// DefaultTimeout bounds a run: a scheduled function has 30 s, and the
	// answer and the log line need the rest.
	DefaultTimeout = 25 * time.Second
	// DefaultLapsedLimit bounds each lane of lapsed orders per run (see
	// orders.ExpireLapsed); the deadline usually ends a backlog run first.
	DefaultLapsedLimit = 20000
	// DefaultOutboxLimit bounds the messages one run retries: the Graph API
	// paces a business number anyway.
	DefaultOutboxLimit = 500
	// outboxWindow is what outbox.RetryDue needs left to start a send (a
	// send's timeout plus recording it, outbox.DefaultSendTimeout + 5 s),
	// plus a second to use it. Lapsed holds stop this long before the
	// deadline when the run is long enough to give the outbox a turn.
	outboxWindow = outbox.DefaultSendTimeout + 6*time.Second
	// reconcileTime is the least time left worth starting reconcile in.
	reconcileTime = time.Second
)

// Options tune a run; the zero value is the default.
type Options struct {
	Timeout     time.Duration // DefaultTimeout when zero
	LapsedLimit int           // DefaultLapsedLimit when zero
	OutboxLimit int           // DefaultOutboxLimit when zero
	OrphanGrace time.Duration // inventory.DefaultOrphanGrace when zero
	DryRun      bool          // count what a run would do; change nothing
}

// Runner runs cleanup against the shop's stores. Orders brings the Stripe
// client (rate-limited, STRIPE_RATE_LIMIT) and the Redis inventory.
type Runner struct {
	DB     *pgxpool.Pool
	Orders *orders.Service
	Outbox *outbox.Outbox
	Log    *slog.Logger
	Options
}

// Report says what one run did (or, in a dry run, would do).
type Report struct {
	DryRun    bool                      `json:"dry_run,omitempty"`
	Lapsed    orders.LapseReport        `json:"lapsed"`
	Outbox    outbox.Report             `json:"outbox"`
	OutboxDue int                       `json:"outbox_due,omitempty"` // dry run: messages due
	Reconcile inventory.ReconcileResult `json:"reconcile"`
	Pruned    PruneReport               `json:"pruned"`
	Skipped   []string                  `json:"skipped,omitempty"` // steps the deadline left to the next run
	Errors    []string                  `json:"errors,omitempty"`
	TookMS    int64                     `json:"took_ms"`
}

// Run does one bounded pass and reports it, also as one log line. Steps go
// on when one fails (they depend on different stores); the error joins
// their failures, which are Postgres's or Redis's: a Stripe or Graph
// failure is counted, and retried by the next run.
func (r *Runner) Run(ctx context.Context) (Report, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(r.Timeout, DefaultTimeout))
	defer cancel()
	if r.DryRun {
		rep, err := r.dryRun(ctx)
		return r.finish(ctx, rep, start, err)
	}
	var rep Report
	var errs []error
	failed := func(step string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", step, err))
		}
	}
	// Redis restarted empty: rebuild first. Until then nothing can be
	// reserved, and no lapsed hold released.
	epoch, err := r.Orders.Inventory.Epoch(ctx)
	failed("read epoch", err)
	if err == nil && epoch == "" {
		rep.Reconcile, err = r.reconcile(ctx)
		failed("rebuild", err)
	}

	lapsedCtx, cancelLapsed := context.WithDeadline(ctx, lapsedDeadline(ctx))
	rep.Lapsed, err = r.Orders.ExpireLapsed(lapsedCtx, cmp.Or(r.LapsedLimit, DefaultLapsedLimit))
	cancelLapsed()
	failed("lapsed holds", err)

	// After the lapsed holds, so their expiry notices go out in this run.
	rep.Outbox, err = r.Outbox.RetryDue(ctx, cmp.Or(r.OutboxLimit, DefaultOutboxLimit))
	failed("outbox", err)

	// Not again after a rebuild, nor with Redis unreachable (reported).
	if epoch != "" && timeLeft(ctx) < reconcileTime {
		rep.Skipped = append(rep.Skipped, "reconcile")
	} else if epoch != "" {
		rep.Reconcile, err = r.reconcile(ctx)
		failed("reconcile", err)
	}
	if timeLeft(ctx) < pruneTime {
		rep.Skipped = append(rep.Skipped, "prune")
	} else {
		rep.Pruned, err = r.prune(ctx)
		failed("prune", err)
	}
	return r.finish(ctx, rep, start, errors.Join(errs...))
}

// lapsedDeadline ends the lapsed holds' step early enough for the outbox to
// start sends when the run is long enough for any; a shorter run (a test, a
// command given less time) splits what it has with reconcile.
func lapsedDeadline(ctx context.Context) time.Time {
	deadline, _ := ctx.Deadline() // Run always sets one
	if left := time.Until(deadline); left < outboxWindow+2*time.Second {
		return time.Now().Add(left / 2)
	}
	return deadline.Add(-outboxWindow)
}

// timeLeft is what remains of the run's deadline (Run always sets one).
func timeLeft(ctx context.Context) time.Duration {
	deadline, _ := ctx.Deadline()
	return time.Until(deadline)
}

func (r *Runner) reconcile(ctx context.Context) (inventory.ReconcileResult, error) {
	return r.Orders.Inventory.Reconcile(ctx, r.DB, inventory.ReconcileOptions{OrphanGrace: r.OrphanGrace, DryRun: r.DryRun})
}

// finish times the report and logs it as one line.
func (r *Runner) finish(ctx context.Context, rep Report, start time.Time, err error) (Report, error) {
	rep.DryRun = r.DryRun
	rep.TookMS = time.Since(start).Milliseconds()
	level := slog.LevelInfo
	switch {
	case err != nil:
		level = slog.LevelError
		for _, e := range unjoin(err) {
			rep.Errors = append(rep.Errors, e.Error())
		}
	case len(rep.Skipped) > 0 || rep.Lapsed.Stopped || rep.Outbox.Stopped || rep.Pruned.Stopped:
		level = slog.LevelWarn // work left for the next run
	}
	r.Log.LogAttrs(context.WithoutCancel(ctx), level, "cleanup run", slog.Bool("dry_run", rep.DryRun),
		slog.Any("lapsed", rep.Lapsed), slog.Any("outbox", rep.Outbox), slog.Int("outbox_due", rep.OutboxDue),
		slog.Any("reconcile", rep.Reconcile), slog.Any("pruned", rep.Pruned), slog.Any("skipped", rep.Skipped), slog.Any("errors", rep.Errors),
		slog.Int64("took_ms", rep.TookMS))
	return rep, err
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// dryRun counts what a run would take on, writing nothing: lapsed orders by
// lane (the conditions orders.ExpireLapsed selects by), due messages,
// reconcile's findings and the delivery records past Retention.
func (r *Runner) dryRun(ctx context.Context) (Report, error) {
	var rep Report
	err := r.DB.QueryRow(ctx, `SELECT count(*) FILTER (WHERE checkout_session_id IS NULL),
			count(*) FILTER (WHERE checkout_session_id IS NOT NULL AND release_after <= $1),
			count(*) FILTER (WHERE checkout_session_id IS NOT NULL AND release_after > $1
				AND COALESCE((metadata->>'lapse_claimed_until')::timestamptz, '-infinity') <= $1)
		FROM orders WHERE status = 'pending_payment' AND hold_expires_at <= $1`, r.Orders.Now()).
		Scan(&rep.Lapsed.NoSession, &rep.Lapsed.PastRelease, &rep.Lapsed.AskStripe)
	if err != nil {
		return rep, fmt.Errorf("count lapsed holds: %w", err)
	}
	now := time.Now()
	if r.Outbox.Now != nil {
		now = r.Outbox.Now()
	}
	err = r.DB.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE status = 'pending'
		AND (attempts = 0 OR next_attempt_at <= $1::timestamptz) AND (lease_until IS NULL OR lease_until <= $1::timestamptz)`,
		now).Scan(&rep.OutboxDue)
	if err != nil {
		return rep, fmt.Errorf("count due messages: %w", err)
	}
	if rep.Reconcile, err = r.reconcile(ctx); err != nil {
		return rep, err
	}
	rep.Pruned, err = r.prune(ctx)
	return rep, err
}
