//go:build linux

package main

import (
	"context"
	"os"
	"syscall"
	"time"
)

// sample is one cold start, or in a load run one invocation (total only).
type sample struct {
	total  time.Duration // exec to response received
	init   time.Duration // exec to the first /next, Lambda's "Init Duration"
	maxRSS int64         // KiB: Linux reports ru_maxrss in KiB
	status string        // statusCode of the API Gateway response
}

// coldStart runs fn once, as a Lambda cold start: a fresh Runtime API, a
// fresh process, one event, then the process is killed, as Lambda ends an
// environment, so Wait can report its peak RSS.
func coldStart(ctx context.Context, fn function, env []string, timeout time.Duration) (sample, *runError) {
	p, rerr := startProcess(ctx, fn, env, timeout)
	if rerr != nil {
		return sample{}, rerr
	}
	status, err := p.invoke(fn.event, timeout)
	total := time.Since(p.started)
	if err != nil {
		return sample{}, p.failure(err)
	}
	s := sample{total: total, status: status, maxRSS: maxRSS(p.stop())}
	if end := p.rt.InitEnd(); !end.IsZero() {
		s.init = end.Sub(p.started)
	}
	return s, nil
}

func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}
