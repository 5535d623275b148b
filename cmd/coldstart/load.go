//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

var (
	errNotOK   = errors.New("answers other than 200")
	errReplies = errors.New("replies missing at the Graph API")
)

// loadReport is one binary under load: one process, one sample per
// invocation, whose total is that invocation's latency.
type loadReport struct {
	report
	elapsed time.Duration // from the end of Init to the last answer
	peakRSS int64         // KiB, VmHWM after the last invocation
	replies int           // sends the Graph stand-in accepted
	want    int           // sends the events should have caused
}

// runLoad feeds each binary o.load events, one at a time, as Lambda feeds a
// warm execution environment, with WHATSAPP_API_BASE_URL pointing at a Graph
// stand-in in this process.
func runLoad(ctx context.Context, fns []function, o options, stdout, stderr io.Writer) error {
	run := time.Now().Unix() % 1e6
	sources := make([]source, len(fns))
	for i, fn := range fns {
		var err error
		if sources[i], err = sourceFor(fn.name, o.env, run); err != nil {
			return err
		}
	}
	g, err := startGraph(o.env)
	if err != nil {
		return fmt.Errorf("graph stand-in: %w", err)
	}
	defer g.Close()
	env := append(slices.Clip(o.env), "WHATSAPP_API_BASE_URL="+g.url)

	reports := make([]loadReport, len(fns))
	failed := 0
	for i, fn := range fns {
		reports[i] = load(ctx, fn, sources[i], g, env, o)
		if r := reports[i]; r.err != nil {
			failed++
			where := fmt.Sprintf("invocation %d of %d", len(r.samples)+1, o.load)
			if len(r.samples) == o.load {
				where = fmt.Sprintf("after %d invocations", o.load)
			}
			printFailure(stderr, fn.name, where, r.err)
		}
	}
	printLoadTable(stdout, reports, o.load)
	if failed > 0 {
		return fmt.Errorf("%d of %d functions failed under load", failed, len(fns))
	}
	return nil
}

// load runs fn's events through one process. It stops at the first
// invocation that fails outright (a crash, a timeout); a status other than
// 200 is counted and fails the run at the end, with the function's last
// logs to say why.
func load(ctx context.Context, fn function, src source, g *graphStandin, env []string, o options) loadReport {
	r := loadReport{report: report{fn: fn}, want: o.load * src.replies}
	g.Reset()
	p, rerr := startProcess(ctx, fn, env, o.timeout)
	if rerr != nil {
		r.err = rerr
		return r
	}
	defer p.stop()
	var last time.Time
	for i := range o.load {
		event, err := src.event(i)
		if err != nil {
			r.err = &runError{kind: "event", err: err}
			return r
		}
		begin := time.Now()
		status, err := p.invoke(event, o.timeout)
		last = time.Now()
		if err != nil {
			r.err = p.failure(err)
			return r
		}
		// The first invocation starts when Init ends, as Lambda bills it.
		if end := p.rt.InitEnd(); i == 0 && end.After(begin) {
			begin = end
		}
		r.samples = append(r.samples, sample{total: last.Sub(begin), status: status})
	}
	r.elapsed = last.Sub(p.rt.InitEnd())
	var err error
	if r.peakRSS, err = vmHWM(p.cmd.Process.Pid); err != nil {
		r.err = p.failure(fmt.Errorf("peak RSS: %w", err))
		return r
	}
	r.replies = len(g.Messages(""))
	if bad := notOK(r.samples); bad > 0 {
		r.err = p.failure(fmt.Errorf("%w: %d of %d", errNotOK, bad, len(r.samples)))
	} else if r.replies != r.want {
		r.err = p.failure(fmt.Errorf("%w: %d sent, want %d", errReplies, r.replies, r.want))
	}
	return r
}

func notOK(samples []sample) int {
	n := 0
	for _, s := range samples {
		if s.status != "200" {
			n++
		}
	}
	return n
}
