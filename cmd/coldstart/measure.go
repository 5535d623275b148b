//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/wa-shop/shop/pkg/lambdaruntime"
)

// sample is one cold start.
type sample struct {
	total  time.Duration // exec to response received
	init   time.Duration // exec to the first /next, Lambda's "Init Duration"
	maxRSS int64         // KiB: Linux reports ru_maxrss in KiB
	status string        // statusCode of the API Gateway response
}

// runError is a failed run. kind goes in the table, the rest to stderr.
type runError struct {
	kind   string
	err    error
	output []byte // tail of the function's stdout and stderr
}

func (e *runError) Error() string { return e.err.Error() }

var (
	errExited     = errors.New("exited before answering")
	errNoResponse = errors.New("no response")
)

// Lambda's settings for the environment. Netlify deploys with 1024 MB.
const (
	memoryMB = "1024"
	region   = "us-east-1"
)

// coldStart runs fn once, as a Lambda cold start: a fresh Runtime API, a
// fresh process, one event, then the process is killed, as Lambda ends an
// environment, so Wait can report its peak RSS.
func coldStart(ctx context.Context, fn function, env []string, timeout time.Duration) (sample, *runError) {
	rt, err := lambdaruntime.New(lambdaruntime.WithTimeout(timeout),
		lambdaruntime.WithFunctionARN("arn:aws:lambda:"+region+":123456789012:function:"+fn.name))
	if err != nil {
		return sample{}, &runError{kind: "runtime api", err: err}
	}
	defer rt.Close()

	out := &tail{max: 4 << 10}
	cmd := exec.Command(fn.path)
	cmd.Dir = filepath.Dir(fn.path)
	// Later entries win, so -env can override Lambda's own variables.
	cmd.Env = append(lambdaEnv(fn, rt.Addr()), env...)
	// Same writer for both: exec then calls Write from one goroutine at a time.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second // a grandchild holding our pipes must not hang Wait

	ctx, cancelTimeout := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("%w within %v", errNoResponse, timeout))
	defer cancelTimeout()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, &runError{kind: "exec", err: err}
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		cancel(fmt.Errorf("%w: %v", errExited, err))
		close(exited)
	}()
	resp, err := rt.Invoke(ctx, fn.event)
	total := time.Since(start)
	_ = cmd.Process.Kill()
	<-exited

	if err != nil {
		// A context error stands for why the context ended: exit or timeout.
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = context.Cause(ctx)
		}
		return sample{}, &runError{kind: kindOf(err), err: err, output: out.bytes()}
	}
	s := sample{total: total, maxRSS: maxRSS(cmd.ProcessState)}
	if end := rt.InitEnd(); !end.IsZero() {
		s.init = end.Sub(start)
	}
	if s.status, err = statusCode(resp); err != nil {
		return sample{}, &runError{kind: "bad response", err: err, output: out.bytes()}
	}
	return s, nil
}

// kindOf words a failure for the table's status column.
func kindOf(err error) string {
	var fe *lambdaruntime.Error
	switch {
	case errors.As(err, &fe) && fe.Init:
		return "init error"
	case errors.As(err, &fe):
		return "function error"
	case errors.Is(err, errExited):
		return "exited"
	case errors.Is(err, errNoResponse), errors.Is(err, lambdaruntime.ErrTimeout):
		return "timeout"
	}
	return "failed"
}

// statusCode reads the API Gateway proxy response the functions return.
func statusCode(resp []byte) (string, error) {
	var r struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(resp, &r); err != nil || r.StatusCode == 0 {
		return "", fmt.Errorf("not an API Gateway response: %.100s", resp)
	}
	return strconv.Itoa(r.StatusCode), nil
}

func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// lambdaEnv is what Lambda sets for a provided.al2 function (see "Defined
// runtime environment variables" in the Lambda guide), minus credentials.
// Nothing comes from our own environment: on Lambda, a variable the
// function needs is set on the function or it is missing.
func lambdaEnv(fn function, api string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + memoryMB,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + fn.name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + time.Now().UTC().Format("2006/01/02") + "/[$LATEST]coldstart",
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		"_HANDLER=" + filepath.Base(fn.path),
		"LAMBDA_TASK_ROOT=" + filepath.Dir(fn.path),
		"LAMBDA_RUNTIME_DIR=/var/runtime",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"TZ=:UTC",
	}
}

// tail keeps the last max bytes written: enough to show why a function
// failed (its "cannot start" line) without holding a chatty one's logs.
type tail struct {
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) bytes() []byte { return t.buf }
