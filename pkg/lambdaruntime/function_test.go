package lambdaruntime_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/wa-shop/shop/pkg/lambdaruntime"
)

// The test binary doubles as the function: started with helperEnv set, it
// runs a real lambda.Start main against the Runtime API instead of the
// tests, so the tests exercise aws-lambda-go's own client, not a stand-in.
const helperEnv = "LAMBDARUNTIME_TEST_FUNCTION"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		runFunction(mode)
		return
	}
	os.Exit(m.Run())
}

type request struct {
	Op  string `json:"op"`
	Msg string `json:"msg,omitempty"`
}

type reply struct {
	Echo       string `json:"echo,omitempty"`
	DeadlineMs int64  `json:"deadline_ms,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	ARN        string `json:"arn,omitempty"`
}

func runFunction(mode string) {
	if mode == "initerror" {
		// aws-lambda-go never reports init errors itself; other runtimes do,
		// with Lambda's error document, and then exit.
		api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		req, _ := http.NewRequest(http.MethodPost, api,
			strings.NewReader(`{"errorType":"ConfigError","errorMessage":"VERIFY_TOKEN is required"}`))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.ConfigError")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
		os.Exit(1)
	}
	lambda.Start(handle)
}

// handle returns any so that "big" can return an io.Reader, which
// aws-lambda-go streams as is: marshalling 6 MB under -race is slow.
func handle(ctx context.Context, req request) (any, error) {
	switch req.Op {
	case "echo":
		return reply{Echo: req.Msg}, nil
	case "fail":
		return nil, errors.New(req.Msg)
	case "deadline":
		deadline, _ := ctx.Deadline()
		lc, _ := lambdacontext.FromContext(ctx)
		return reply{DeadlineMs: deadline.UnixMilli(), RequestID: lc.AwsRequestID, ARN: lc.InvokedFunctionArn}, nil
	case "broken stream":
		return io.MultiReader(strings.NewReader(`{"partial":`), iotest.ErrReader(errors.New(req.Msg))), nil
	case "hang":
		time.Sleep(time.Hour) // a stuck function that ignores its context
	case "big":
		return bytes.NewReader(make([]byte, lambdaruntime.MaxResponseSize+1)), nil
	}
	return nil, errors.New("unknown op " + req.Op)
}

// startFunction runs the helper against rt until the test ends, logging
// its output if the test fails.
func startFunction(t *testing.T, rt *lambdaruntime.Runtime, mode string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "AWS_LAMBDA_RUNTIME_API="+rt.Addr())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start function: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("function output:\n%s", out.String())
		}
	})
}

func newRuntime(t *testing.T, opts ...lambdaruntime.Option) *lambdaruntime.Runtime {
	t.Helper()
	rt, err := lambdaruntime.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
