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
	"sync"
	"time"

	"github.com/wa-shop/shop/pkg/lambdaruntime"
)

// runError is a failed run. kind goes in the table, the rest to stderr.
type runError struct {
	kind   string
	err    error
	output []byte // tail of the function's stdout and stderr
}

func (e *runError) Error() string { return e.err.Error() }

var (
	errExited      = errors.New("exited before answering")
	errNoResponse  = errors.New("no response")
	errBadResponse = errors.New("not an API Gateway response")
)

// Lambda's settings for the environment. Netlify deploys with 1024 MB.
const (
	memoryMB = "1024"
	region   = "us-east-1"
)

// process is one function process behind a Runtime API of its own: one
// Lambda execution environment, started cold, fed events one at a time.
type process struct {
	rt      *lambdaruntime.Runtime
	cmd     *exec.Cmd
	out     *tail
	started time.Time // just before exec
	// ctx ends when the process exits, with errExited as its cause, so an
	// invocation waiting on a dead function fails at once.
	ctx      context.Context
	cancel   context.CancelCauseFunc
	exited   chan struct{}
	stopOnce sync.Once
}

func startProcess(ctx context.Context, fn function, env []string, timeout time.Duration) (*process, *runError) {
	rt, err := lambdaruntime.New(lambdaruntime.WithTimeout(timeout),
		lambdaruntime.WithFunctionARN("arn:aws:lambda:"+region+":123456789012:function:"+fn.name))
	if err != nil {
		return nil, &runError{kind: "runtime api", err: err}
	}
	p := &process{rt: rt, out: &tail{max: 4 << 10}, exited: make(chan struct{})}
	p.cmd = exec.Command(fn.path)
	p.cmd.Dir = filepath.Dir(fn.path)
	// Later entries win, so -env can override Lambda's own variables.
	p.cmd.Env = append(lambdaEnv(fn, rt.Addr()), env...)
	// Same writer for both: exec then calls Write from one goroutine at a time.
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.WaitDelay = time.Second // a grandchild holding our pipes must not hang Wait
	p.ctx, p.cancel = context.WithCancelCause(ctx)

	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		p.cancel(nil)
		rt.Close()
		return nil, &runError{kind: "exec", err: err}
	}
	go func() {
		err := p.cmd.Wait()
		p.cancel(fmt.Errorf("%w: %v", errExited, err))
		close(p.exited)
	}()
	return p, nil
}

// invoke hands the function one event and returns the statusCode of its API
// Gateway response. timeout bounds the whole call, the wait for the function
// to ask for the event included: on the first call, that wait is its Init.
func (p *process) invoke(event []byte, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeoutCause(p.ctx, timeout, fmt.Errorf("%w within %v", errNoResponse, timeout))
	defer cancel()
	resp, err := p.rt.Invoke(ctx, event)
	if err != nil {
		// A context error stands for why the context ended: exit or timeout.
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = context.Cause(ctx)
		}
		return "", err
	}
	return statusCode(resp)
}

// stop kills the process, as Lambda ends an environment, and waits for it,
// so its state holds the rusage. Calling it again does nothing.
func (p *process) stop() *os.ProcessState {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		p.cancel(nil)
		p.rt.Close()
	})
	return p.cmd.ProcessState
}

// failure stops the process and words err with the output it left.
func (p *process) failure(err error) *runError {
	p.stop()
	return &runError{kind: kindOf(err), err: err, output: p.out.bytes()}
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
	case errors.Is(err, errBadResponse):
		return "bad response"
	case errors.Is(err, errNotOK):
		return "not all 200"
	case errors.Is(err, errReplies):
		return "replies missing"
	}
	return "failed"
}

// statusCode reads the API Gateway proxy response the functions return.
func statusCode(resp []byte) (string, error) {
	var r struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(resp, &r); err != nil || r.StatusCode == 0 {
		return "", fmt.Errorf("%w: %.100s", errBadResponse, resp)
	}
	return strconv.Itoa(r.StatusCode), nil
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
