// Command cleanup-reservations runs the cleanup the scheduled function runs
// (lapsed holds, the outbox retry, Redis reconciled with Postgres, delivery
// records older than 8 days deleted) once, for cron, a systemd timer or a
// VPS without Netlify's scheduler:
//
//	go run ./scripts/cleanup-reservations [-dry-run] [-json] [-timeout 25s]
//
//	# crontab: every minute, as netlify.toml schedules the function
//	* * * * *  cd /srv/shop && ./cleanup-reservations >> /var/log/shop-cleanup.log 2>&1
//
// It reads what the function reads: DATABASE_URL, REDIS_URL, STRIPE_SECRET,
// WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN, and the optional
// settings beside them (STRIPE_RATE_LIMIT paces the Stripe calls). With
// -dry-run it reports what a run would do and changes nothing: no order,
// no Redis key, no Stripe call, no message.
//
// Two runs at once (cron double-firing, or the function and this command)
// do no harm and no work twice. The exit status is 0 when the run finished,
// even with work left for the next run or Stripe answering errors (counted
// in the report), and 1 when Postgres or Redis cannot be reached or fail
// during the run, or the configuration is incomplete.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/wa-shop/shop/pkg/app"
	"github.com/wa-shop/shop/pkg/cleanup"
	"github.com/wa-shop/shop/pkg/config"
)

// pingTimeout bounds the reachability check before the run starts.
const pingTimeout = 5 * time.Second

func main() { app.Main("cleanup-reservations", run) }

// run is the whole command: the report goes to stdout, logs (JSON, with the
// run's one line) to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cleanup-reservations", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dryRun := fs.Bool("dry-run", false, "report what a run would do; change nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	timeout := fs.Duration("timeout", cleanup.DefaultTimeout, "stop starting work after this long; the rest waits for the next run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *timeout <= 0 {
		fs.Usage()
		return errors.New("no arguments besides the flags, and a positive -timeout")
	}
	var logging config.Logging
	if err := config.Load(&logging); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: logging.SlogLevel()}))
	runner, err := app.CleanupRunner(ctx, log)
	if err != nil {
		return err
	}
	defer runner.DB.Close()
	if err := reachable(ctx, runner); err != nil {
		return err
	}
	runner.DryRun, runner.Timeout = *dryRun, *timeout
	rep, runErr := runner.Run(ctx)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		summarise(stdout, rep)
	}
	return runErr
}

// reachable fails fast, naming the store, when Postgres or Redis cannot be
// reached: the run would fail at its first step anyway, less clearly.
func reachable(ctx context.Context, r *cleanup.Runner) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := r.DB.Ping(ctx); err != nil {
		return fmt.Errorf("postgres unreachable: %w", err)
	}
	if _, err := r.Orders.Inventory.Epoch(ctx); err != nil {
		return fmt.Errorf("redis unreachable: %w", err)
	}
	return nil
}

// summarise writes the report for a person reading cron's mail.
func summarise(w io.Writer, rep cleanup.Report) {
	l, o, c := rep.Lapsed, rep.Outbox, rep.Reconcile
	if rep.DryRun {
		fmt.Fprintln(w, "Dry run: nothing was changed.")
		fmt.Fprintf(w, "Lapsed holds due: %d without a session, %d past release_after, %d to expire at Stripe.\n",
			l.NoSession, l.PastRelease, l.AskStripe)
		fmt.Fprintf(w, "Outbox: %d messages due.\n", rep.OutboxDue)
	} else {
		fmt.Fprintf(w, "Lapsed holds: %d expired at Stripe, %d without a session, %d past release_after; %d holds released.\n",
			l.SessionExpired, l.NoSession, l.PastRelease, l.Released)
		fmt.Fprintf(w, "  %d paid at Stripe before their event came: payment applied.\n", l.SessionPaid)
		fmt.Fprintf(w, "  left alone: %d already settled, %d Stripe errors to retry, %d refused by Stripe.\n",
			l.Settled, l.StripeRetry, l.StripeFailed)
		fmt.Fprintf(w, "Outbox: %d sent, %d to retry, %d failed, %d taken by another run.\n", o.Sent, o.Retrying, o.Failed, o.Skipped)
	}
	switch {
	case c.Rebuilt:
		fmt.Fprintf(w, "Redis was empty: rebuilt %d SKUs and %d holds from Postgres.\n", c.SKUs, c.Holds)
	case c.NeedsRebuild:
		fmt.Fprintln(w, "Redis is empty: a run would rebuild it from Postgres.")
	default:
		fmt.Fprintf(w, "Reconcile: %d SKUs checked, %d drifted by %d units; %d holds restored, %d extended, %d phantom holds and %d orphans dropped, %d orphans waiting.\n",
			c.SKUs, c.Drifted, c.DriftUnits, c.Restored, c.Extended, c.Phantoms, c.OrphansDropped, c.OrphansWaiting)
	}
	verb := "deleted"
	if rep.DryRun {
		verb = "to delete"
	}
	fmt.Fprintf(w, "Delivery records older than %d days: %d WhatsApp messages and %d Stripe events %s.\n",
		int(cleanup.Retention.Hours()/24), rep.Pruned.Messages, rep.Pruned.Events, verb)
	if l.Stopped || o.Stopped || rep.Pruned.Stopped || len(rep.Skipped) > 0 {
		fmt.Fprintln(w, "Work is left for the next run.")
	}
	fmt.Fprintf(w, "Took %d ms.\n", rep.TookMS)
}
