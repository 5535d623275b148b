//go:build linux

// Command coldstart measures how long the function binaries take from exec
// to their first answered event, running them the way Lambda does: a fresh
// process per cold start, speaking the Runtime API (pkg/lambdaruntime) on a
// loopback port, with Lambda's environment and nothing inherited from ours.
//
//	go run ./cmd/coldstart -runs 20 -event cmd/coldstart/testdata \
//	    -env VERIFY_TOKEN=t -env WHATSAPP_APP_SECRET=s ... dist/functions/*/bootstrap
//
// -event is one JSON file for every binary, or a directory holding
// <name>.json per binary, where a binary's name is its directory when it is
// called bootstrap (as ./build.sh functions lays them out). It prints a
// markdown table to stdout and exits 1 if any run fails: an init error, the
// process exiting, a function error, or no response within -timeout.
//
// With -load N it measures a warm function instead: one process per binary
// fed N events one after another, as Lambda feeds an execution environment,
// and reports invocations per second, p50 and p99 latency and the process's
// peak RSS. The events are made here (see loadevents.go): signed WhatsApp
// texts for webhook, signed Stripe events for payment-callback, each new to
// the shop, so the function needs live Postgres and Redis in its -env (see
// scripts/function-load.sh). Replies go to a Graph API stand-in in this
// process, which -load points WHATSAPP_API_BASE_URL at. A run fails unless
// every invocation answered 200 and every expected reply reached the
// stand-in.
//
// Linux only: the binaries are linux/amd64, and peak RSS comes from
// ru_maxrss and /proc/<pid>/status, which Linux reports in KiB.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

type options struct {
	runs     int
	load     int
	event    string
	env      []string
	timeout  time.Duration
	binaries []string
}

func parseArgs(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("coldstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: coldstart [-runs N] -event FILE|DIR [-env K=V ...] [-timeout D] BINARY...")
		fmt.Fprintln(stderr, "       coldstart -load N [-env K=V ...] [-timeout D] BINARY...")
		fs.PrintDefaults()
	}
	fs.IntVar(&o.runs, "runs", 20, "cold starts per binary")
	fs.IntVar(&o.load, "load", 0, "instead of cold starts, send `N` made-up events to one warm process per binary")
	fs.StringVar(&o.event, "event", "", "event JSON `file`, or a directory of <name>.json")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "limit per run from exec to response (per invocation with -load), and the function timeout")
	fs.Func("env", "`K=V` added to the function's environment (repeatable)", func(s string) error {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			return errors.New("want K=V")
		}
		o.env = append(o.env, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.binaries = fs.Args()
	switch {
	case o.runs < 1:
		return o, errors.New("-runs must be at least 1")
	case o.timeout <= 0:
		return o, errors.New("-timeout must be positive")
	case o.load < 0:
		return o, errors.New("-load must not be negative")
	case o.load > 0 && o.event != "":
		return o, errors.New("-load makes its own events: drop -event")
	case o.load == 0 && o.event == "":
		return o, errors.New("-event is required")
	case len(o.binaries) == 0:
		return o, errors.New("no binaries given")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	// Load everything first, so a typo fails before minutes of measuring.
	fns := make([]function, len(o.binaries))
	for i, bin := range o.binaries {
		if fns[i], err = loadFunction(bin, o.event); err != nil {
			return err
		}
	}
	if o.load > 0 {
		return runLoad(ctx, fns, o, stdout, stderr)
	}
	reports := make([]report, len(fns))
	failed := 0
	for i, fn := range fns {
		reports[i] = measure(ctx, fn, o)
		if r := reports[i]; r.err != nil {
			failed++
			printFailure(stderr, fn.name, fmt.Sprintf("run %d of %d", len(r.samples)+1, o.runs), r.err)
		}
	}
	printTable(stdout, reports, o.runs)
	if failed > 0 {
		return fmt.Errorf("%d of %d functions failed", failed, len(fns))
	}
	return nil
}

// printFailure says on stderr where and why fn failed, with its last output.
func printFailure(stderr io.Writer, fn, where string, err *runError) {
	fmt.Fprintf(stderr, "%s: %s: %v\n", fn, where, err)
	if out := err.output; len(out) > 0 {
		fmt.Fprintf(stderr, "%s output (tail):\n%s\n", fn, bytes.TrimRight(out, "\n"))
	}
}

type function struct {
	name, path string
	size       int64
	event      []byte // nil with -load
}

func loadFunction(bin, event string) (function, error) {
	path, err := filepath.Abs(bin)
	if err != nil {
		return function{}, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return function{}, err
	}
	fn := function{name: functionName(path), path: path, size: st.Size()}
	if event == "" {
		return fn, nil // -load makes its own
	}
	if dir, err := os.Stat(event); err == nil && dir.IsDir() {
		event = filepath.Join(event, fn.name+".json")
	}
	if fn.event, err = os.ReadFile(event); err != nil {
		return function{}, fmt.Errorf("event for %s: %w", fn.name, err)
	}
	if !json.Valid(fn.event) {
		return function{}, fmt.Errorf("event for %s: %s is not JSON", fn.name, event)
	}
	return fn, nil
}

// functionName names dist/functions/webhook/bootstrap "webhook": Netlify
// names the binary bootstrap for the provided.al2 runtime.
func functionName(path string) string {
	if base := filepath.Base(path); base != "bootstrap" {
		return base
	}
	return filepath.Base(filepath.Dir(path))
}

// report is one binary's runs. Runs stop at the first failure: a broken
// binary fails the same way each time, and a hang costs -timeout per run.
type report struct {
	fn      function
	samples []sample
	err     *runError
}

func measure(ctx context.Context, fn function, o options) report {
	r := report{fn: fn}
	for range o.runs {
		s, err := coldStart(ctx, fn, o.env, o.timeout)
		if err != nil {
			r.err = err
			break
		}
		r.samples = append(r.samples, s)
	}
	return r
}
