package lambdaruntime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wa-shop/shop/pkg/lambdaruntime"
)

// TestInvoke sends events one after another to one warm function: answers,
// a reported error, and an answer again, since an error does not end the
// process.
func TestInvoke(t *testing.T) {
	rt := newRuntime(t)
	startFunction(t, rt, "serve")
	ctx := testContext(t)

	tests := []struct {
		name    string
		event   string
		want    string
		wantErr error
	}{
		{"answer", `{"op":"echo","msg":"hello"}`, `{"echo":"hello"}`, nil},
		{"error", `{"op":"fail","msg":"out of stock"}`, "", &lambdaruntime.Error{Type: "errorString", Message: "out of stock"}},
		{"answer after error", `{"op":"echo","msg":"again"}`, `{"echo":"again"}`, nil},
		// aws-lambda-go reports a body that fails midway in trailers.
		{"broken stream", `{"op":"broken stream","msg":"disk gone"}`, "", &lambdaruntime.Error{Type: "errorString", Message: "disk gone"}},
		{"answer after broken stream", `{"op":"echo","msg":"still here"}`, `{"echo":"still here"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rt.Invoke(ctx, []byte(tt.event))
			if diff := cmp.Diff(tt.wantErr, err, cmp.Comparer(sameError)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func sameError(a, b error) bool {
	var ea, eb *lambdaruntime.Error
	if errors.As(a, &ea) && errors.As(b, &eb) {
		return *ea == *eb
	}
	return a == b
}

// TestInvokeConcurrently queues many events at once on one process: Lambda
// hands them out one at a time and each caller gets its own answer.
func TestInvokeConcurrently(t *testing.T) {
	rt := newRuntime(t)
	startFunction(t, rt, "serve")
	ctx := testContext(t)

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			msg := fmt.Sprint("caller ", i)
			got, err := rt.Invoke(ctx, []byte(`{"op":"echo","msg":"`+msg+`"}`))
			if want := `{"echo":"` + msg + `"}`; err != nil || string(got) != want {
				t.Errorf("Invoke = %s, %v; want %s", got, err, want)
			}
		})
	}
	wg.Wait()
}

// TestDeadline checks what aws-lambda-go makes of the headers: its context
// deadline is the Lambda-Runtime-Deadline-Ms we sent, and the request id and
// ARN reach lambdacontext.
func TestDeadline(t *testing.T) {
	const timeout = 3 * time.Second
	arn := "arn:aws:lambda:us-east-1:123456789012:function:webhook"
	rt := newRuntime(t, lambdaruntime.WithTimeout(timeout), lambdaruntime.WithFunctionARN(arn))
	startFunction(t, rt, "serve")

	before := time.Now()
	raw, err := rt.Invoke(testContext(t), []byte(`{"op":"deadline"}`))
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		DeadlineMs int64  `json:"deadline_ms"`
		RequestID  string `json:"request_id"`
		ARN        string `json:"arn"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	// The header has millisecond resolution, hence the truncation.
	lo, hi := before.Add(timeout).UnixMilli(), after.Add(timeout).UnixMilli()
	if got.DeadlineMs < lo || got.DeadlineMs > hi {
		t.Errorf("context deadline = %d, want within [%d, %d]", got.DeadlineMs, lo, hi)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(got.RequestID) {
		t.Errorf("request id = %q, want a UUID", got.RequestID)
	}
	if got.ARN != arn {
		t.Errorf("ARN = %q, want %q", got.ARN, arn)
	}
}

// TestFailures covers the ways an invocation ends without an answer.
func TestFailures(t *testing.T) {
	tests := []struct {
		mode, event string
		timeout     time.Duration
		want        func(error) bool
	}{
		{"serve", `{"op":"hang"}`, 300 * time.Millisecond,
			func(err error) bool { return errors.Is(err, lambdaruntime.ErrTimeout) }},
		{"serve", `{"op":"big"}`, 10 * time.Second,
			isError(lambdaruntime.Error{Type: "Function.ResponseSizeTooLarge",
				Message: fmt.Sprintf("response payload exceeds %d bytes", lambdaruntime.MaxResponseSize)})},
		{"initerror", `{"op":"echo"}`, 10 * time.Second,
			isError(lambdaruntime.Error{Init: true, Type: "ConfigError", Message: "VERIFY_TOKEN is required"})},
	}
	for _, tt := range tests {
		t.Run(tt.mode+" "+tt.event, func(t *testing.T) {
			rt := newRuntime(t, lambdaruntime.WithTimeout(tt.timeout))
			startFunction(t, rt, tt.mode)
			if _, err := rt.Invoke(testContext(t), []byte(tt.event)); !tt.want(err) {
				t.Fatalf("Invoke error = %v", err)
			}
			if tt.mode != "initerror" {
				return
			}
			// Lambda serves an init error to every invocation, at once.
			start := time.Now()
			if _, err := rt.Invoke(testContext(t), []byte(tt.event)); !tt.want(err) || time.Since(start) > time.Second {
				t.Errorf("second Invoke error = %v after %v", err, time.Since(start))
			}
		})
	}
}

func isError(want lambdaruntime.Error) func(error) bool {
	return func(err error) bool {
		var got *lambdaruntime.Error
		return errors.As(err, &got) && *got == want
	}
}

// TestProtocolErrors speaks to the API directly, as a misbehaving runtime.
func TestProtocolErrors(t *testing.T) {
	rt := newRuntime(t)
	base := "http://" + rt.Addr() + "/2018-06-01/runtime"

	// A /next that is waiting ends the Init phase.
	ctx, cancel := context.WithCancel(t.Context())
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/invocation/next", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	t.Cleanup(func() { cancel(); <-polled })
	for rt.InitEnd().IsZero() {
		time.Sleep(time.Millisecond)
	}

	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/invocation/no-such-id/response", http.StatusBadRequest},
		{http.MethodPost, "/invocation/no-such-id/error", http.StatusBadRequest},
		{http.MethodPost, "/init/error", http.StatusForbidden},
		{http.MethodPost, "/invocation/next", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, strings.NewReader(`{}`))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.want)
			}
		})
	}
}

// TestInvokeWithoutFunction: nothing polls, so only the caller's context or
// Close ends the wait.
func TestInvokeWithoutFunction(t *testing.T) {
	rt := newRuntime(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := rt.Invoke(ctx, []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Invoke error = %v, want context.DeadlineExceeded", err)
	}
	time.AfterFunc(50*time.Millisecond, func() { rt.Close() })
	if _, err := rt.Invoke(t.Context(), []byte(`{}`)); !errors.Is(err, lambdaruntime.ErrClosed) {
		t.Errorf("Invoke error = %v, want ErrClosed", err)
	}
}
