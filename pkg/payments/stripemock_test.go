package payments

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stripeMockVersion is what ./build.sh installs:
//
//	go install github.com/stripe/stripe-mock@v0.203.0
//
// The binary's -version prints "master"; `go version -m` shows the module
// version.
const stripeMockVersion = "v0.203.0"

// The stand-in checks Stripe's rules against stripe-go's own params structs.
// stripe-mock (stateless) checks our requests against Stripe's OpenAPI spec
// instead: unknown top-level parameters, and types and enum values at any
// depth (v0.203.0 lets unknown names inside nested objects through, which
// the stand-in catches).
func TestRequestShapesAgainstStripeMock(t *testing.T) {
	base := startStripeMock(t)
	// stripe-mock accepts any test key; it checks shapes, not state, so
	// ids are made up and expires_at is not held to the 30 min–24 h window.
	c := newClient(t, base, "sk_test_123", WithMaxNetworkRetries(0))
	ctx := context.Background()

	req := request(time.Now())
	req.CustomerRef = "cust-42"
	if _, err := c.CreateSession(ctx, req); err != nil {
		t.Errorf("CreateSession() = %v", err)
	}
	if _, err := c.GetSession(ctx, "cs_test_123"); err != nil {
		t.Errorf("GetSession() = %v", err)
	}
	if _, err := c.ExpireSession(ctx, "cs_test_123"); err != nil {
		t.Errorf("ExpireSession() = %v", err)
	}
	for _, amount := range []int64{0, 500} {
		if _, err := c.Refund(ctx, "pi_123", amount, "refund-key", map[string]string{"order_id": "o1"}); err != nil {
			t.Errorf("Refund(amount %d) = %v", amount, err)
		}
	}

	// The control: stripe-mock does refuse a parameter Stripe does not know,
	// so the successes above mean something.
	form := url.Values{"mode": {"payment"}, "no_such_param": {"1"}}
	hreq, _ := http.NewRequest(http.MethodPost, base+"/v1/checkout/sessions", strings.NewReader(form.Encode()))
	hreq.Header.Set("Authorization", "Bearer sk_test_123")
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown parameter answered %d, want 400: stripe-mock is not validating", resp.StatusCode)
	}
}

// startStripeMock runs stripe-mock on a loopback port the system picks and
// returns its base URL. Without the binary the test is skipped, except
// under CI=true where a missing binary fails it: CI must not pass by
// skipping.
func startStripeMock(t *testing.T) string {
	t.Helper()
	bin := findStripeMock()
	if bin == "" {
		msg := "stripe-mock not found in PATH, GOBIN or GOPATH/bin; install it with: go install github.com/stripe/stripe-mock@" + stripeMockVersion
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// Both listeners on loopback ports the system picks: given only
	// -http-addr, stripe-mock also serves HTTPS on the fixed port 12112 on
	// every interface (and -http cannot be combined with -http-addr).
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	// Output goes through a pipe we own, read to the end, so Wait (which
	// waits for exec's copy into it) never races our reads.
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); exited <- err }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the process this test started, by its handle
		<-exited
	})
	addr, output := make(chan string, 1), make(chan string, 1)
	go func() {
		var seen strings.Builder
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if a, ok := strings.CutPrefix(sc.Text(), "Listening for HTTP at address: "); ok {
				addr <- a
			}
		}
		_, _ = io.Copy(io.Discard, pr) // past a line too long for the scanner
		output <- seen.String()
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not say where it listens within 20s", bin)
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("%s exited (%v):\n%s", bin, err, <-output)
	}
	return ""
}

// findStripeMock looks where `go install` puts binaries: GOBIN, else the
// first GOPATH entry's bin, as `go env` reports them.
func findStripeMock() string {
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return ""
	}
	lines := strings.Split(string(out), "\n")
	dirs := []string{strings.TrimSpace(lines[0])}
	if len(lines) > 1 {
		if gopath := filepath.SplitList(strings.TrimSpace(lines[1])); len(gopath) > 0 {
			dirs = append(dirs, filepath.Join(gopath[0], "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "stripe-mock")
		if fi, err := os.Stat(p); d != "" && err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}
