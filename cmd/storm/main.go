// Command storm shows the shop's promises under load and faults: customers
// rush for little stock over signed WhatsApp webhooks, pay, cancel or let
// their sessions expire through the Stripe stand-in, while messages and
// events arrive several times and Redis, Postgres and the providers fail.
// It then runs cleanup until quiet, checks every invariant, prints each as
// PASS or FAIL with numbers, and exits non-zero on any FAIL.
//
// It starts its own shop on loopback (a private Postgres and Redis under
// -dir, the stand-ins and every function) so that it can restart the
// servers mid-run. `./build.sh storm` runs it; `-short` is CI's version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/wa-shop/shop/pkg/app"
)

func main() { app.Main("storm", run) }

// errFailed means a check failed; the checks printed why. Like any error
// it makes the command exit 1.
var errFailed = errors.New("a check failed (see FAIL above)")

// scenarios in the order they run by default.
var scenarios = []string{"rush", "duplicates", "faults"}

type options struct {
	scenarios   []string
	customers   int
	stock       int
	skus        int
	rate        float64 // customers starting per second
	concurrency int
	timeout     time.Duration // per scenario
	dir         string
	seed        int64
	pay, cancel float64 // shares of the orders made; the rest expire
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("storm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.String("scenarios", strings.Join(scenarios, ","), "scenarios to run, comma-separated: "+strings.Join(scenarios, ", "))
	fs.IntVar(&o.customers, "customers", 2000, "customers per scenario, each sending one order request")
	fs.IntVar(&o.stock, "stock", 50, "units in stock, spread over the SKUs")
	fs.IntVar(&o.skus, "skus", 5, "SKUs on sale")
	fs.Float64Var(&o.rate, "rate", 300, "customers starting per second")
	fs.IntVar(&o.concurrency, "concurrency", 64, "customers in flight at once")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "time a scenario may take before it fails")
	fs.StringVar(&o.dir, "dir", ".dev/storm", "where the private Postgres and Redis live")
	fs.Int64Var(&o.seed, "seed", time.Now().UnixNano(), "random seed (printed, to replay a run)")
	fs.Float64Var(&o.pay, "pay", 0.5, "share of orders paid")
	fs.Float64Var(&o.cancel, "cancel", 0.2, "share of orders cancelled by the customer; the rest let the session expire")
	short := fs.Bool("short", false, "CI's version: 300 customers, 30 units")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *short {
		o.customers, o.stock = 300, 30
	}
	for _, s := range strings.Split(*list, ",") {
		if s = strings.TrimSpace(s); !slices.Contains(scenarios, s) {
			return o, fmt.Errorf("unknown scenario %q: want %s", s, strings.Join(scenarios, ", "))
		}
		o.scenarios = append(o.scenarios, s)
	}
	switch {
	case o.customers < 1 || o.stock < 1 || o.skus < 1 || o.skus > o.stock:
		return o, errors.New("-customers, -stock and -skus must be positive, with no more SKUs than units")
	case o.rate <= 0 || o.concurrency < 1:
		return o, errors.New("-rate and -concurrency must be positive")
	case o.pay < 0 || o.cancel < 0 || o.pay+o.cancel > 1:
		return o, errors.New("-pay and -cancel are shares that add up to at most 1")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "storm: %d customers, %d units over %d SKUs, %.0f customers/s, %d at once, seed %d\n",
		opts.customers, opts.stock, opts.skus, opts.rate, opts.concurrency, opts.seed)
	st, err := startStack(ctx, opts.dir)
	if err != nil {
		return err
	}
	defer st.close()
	failed := false
	for i, name := range opts.scenarios {
		sc := newScenario(name, opts, st, opts.seed+int64(i))
		ok, err := sc.run(ctx, stdout)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		failed = failed || !ok
	}
	if failed {
		return errFailed
	}
	return nil
}
