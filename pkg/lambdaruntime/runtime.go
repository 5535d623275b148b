// Package lambdaruntime is Lambda's side of the AWS Lambda Runtime API
// (version 2018-06-01), enough to run a real function binary on loopback:
// exec a `lambda.Start` main with AWS_LAMBDA_RUNTIME_API set to Addr and hand
// it events with Invoke. Tests and cmd/coldstart use it so that what they run
// is the deployed binary speaking the deployed protocol, not a handler call.
//
// It follows https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
// and the OpenAPI document linked there: /next blocks until an event is
// queued and carries the request id, deadline, function ARN and trace id;
// /response and /error answer 202; an unknown request id answers 400; a
// response over Lambda's 6 MB synchronous limit answers 413 and fails the
// invocation; /init/error fails the pending and every later invocation, as
// Lambda serves an init error "in response to the first invoke". One
// execution environment only: no extensions, telemetry or response streaming.
package lambdaruntime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Paths and headers of the Runtime API.
const (
	prefix = "/2018-06-01/runtime"

	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	// The error type comes as a header on /error and /init/error, and as a
	// trailer on /response: aws-lambda-go streams a response body and, when
	// reading it fails midway, reports that in trailers instead of /error.
	headerErrorType  = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody = "Lambda-Runtime-Function-Error-Body"

	// MaxResponseSize is Lambda's limit on a synchronous response payload.
	MaxResponseSize = 6 << 20
)

var (
	// ErrTimeout: the function did not answer before its deadline; Lambda
	// would end the invocation with "Task timed out".
	ErrTimeout = errors.New("task timed out")
	// ErrClosed: Close was called while an invocation was pending.
	ErrClosed = errors.New("runtime api closed")
)

// Error is a failure the function reported: at /runtime/init/error when Init
// is set, else at /runtime/invocation/{id}/error. The JSON shape is Lambda's
// error document, which is also the body of the API's own 4xx answers.
type Error struct {
	Init    bool   `json:"-"`
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *Error) Error() string {
	phase := "invocation"
	if e.Init {
		phase = "init"
	}
	return fmt.Sprintf("%s error %s: %s", phase, e.Type, e.Message)
}

// Option configures a Runtime.
type Option func(*Runtime)

// WithTimeout sets the function timeout: the deadline sent with each event
// is this long after the function receives it. The default is 10 s,
// Netlify's limit for synchronous functions.
func WithTimeout(d time.Duration) Option { return func(rt *Runtime) { rt.timeout = d } }

// WithFunctionARN sets the Lambda-Runtime-Invoked-Function-Arn header.
func WithFunctionARN(arn string) Option { return func(rt *Runtime) { rt.arn = arn } }

// Runtime serves the Runtime API on a loopback port for one function process.
type Runtime struct {
	timeout time.Duration
	arn     string
	ln      net.Listener
	srv     *http.Server

	// queue is unbuffered: an Invoke is handed over only when the function
	// is waiting in /next, so a cancelled Invoke never leaves a stale event.
	queue      chan *invocation
	closed     chan struct{}
	closeOnce  sync.Once
	initFailed chan struct{} // closed once initErr is set

	mu       sync.Mutex
	inflight map[string]*invocation // handed out by /next, not yet answered
	initErr  *Error
	initEnd  time.Time
}

type invocation struct {
	id    string
	event []byte
	done  chan result // buffered, so an answer never waits for a gone Invoke
}

type result struct {
	body []byte
	err  error
}

// New starts a Runtime API on 127.0.0.1 at a free port.
func New(opts ...Option) (*Runtime, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	rt := &Runtime{
		timeout:    10 * time.Second,
		arn:        "arn:aws:lambda:us-east-1:123456789012:function:local",
		ln:         ln,
		queue:      make(chan *invocation),
		closed:     make(chan struct{}),
		initFailed: make(chan struct{}),
		inflight:   map[string]*invocation{},
	}
	for _, opt := range opts {
		opt(rt)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/invocation/next", rt.handleNext)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/response", rt.handleResponse)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/error", rt.handleError)
	mux.HandleFunc("POST "+prefix+"/init/error", rt.handleInitError)
	// No read or write timeout: /next legitimately blocks until an event.
	rt.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rt.srv.Serve(ln) }() // ends with ErrServerClosed on Close
	return rt, nil
}

// Addr is the host:port to put in AWS_LAMBDA_RUNTIME_API.
func (rt *Runtime) Addr() string { return rt.ln.Addr().String() }

// Close stops the API, failing pending invocations with ErrClosed.
func (rt *Runtime) Close() error {
	rt.closeOnce.Do(func() { close(rt.closed) })
	return rt.srv.Close()
}

// InitEnd is when the function first asked for an event, zero before that.
// Lambda ends the Init phase there, so InitEnd minus the process start is the
// "Init Duration" Lambda reports.
func (rt *Runtime) InitEnd() time.Time {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.initEnd
}

// InitError is what the function reported at /runtime/init/error, or nil.
func (rt *Runtime) InitError() *Error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.initErr
}

// Invoke queues event for the function and waits for its answer: the
// response payload, an *Error it reported (init or invocation), ErrTimeout
// once the deadline passes, ErrClosed, or ctx's error. Each event goes to
// one /next: concurrent calls queue until the function asks again, unless it
// polls from several goroutines (AWS_LAMBDA_MAX_CONCURRENCY).
func (rt *Runtime) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	inv := &invocation{id: newRequestID(), event: event, done: make(chan result, 1)}
	select {
	case rt.queue <- inv:
	case <-rt.initFailed:
		return nil, rt.InitError()
	case <-rt.closed:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// handleNext stamped the deadline at this same hand-over.
	timer := time.NewTimer(rt.timeout)
	defer timer.Stop()
	var err error
	select {
	case r := <-inv.done:
		return r.body, r.err
	case <-timer.C:
		err = fmt.Errorf("%w after %v", ErrTimeout, rt.timeout)
	case <-rt.closed:
		err = ErrClosed
	case <-ctx.Done():
		err = ctx.Err()
	}
	// Forget it so a late answer gets 400, but keep one that just landed.
	rt.take(inv.id)
	select {
	case r := <-inv.done:
		return r.body, r.err
	default:
		return nil, err
	}
}

// take removes an in-flight invocation: each is answered at most once.
func (rt *Runtime) take(id string) *invocation {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	inv := rt.inflight[id]
	delete(rt.inflight, id)
	return inv
}
