package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wa-shop/shop/pkg/standin/stripe"
)

const testKey = "sk_test_dev"

// newStripe is a Stripe stand-in behind a listener, holding one open session.
func newStripe(t *testing.T) (*stripe.Server, *httptest.Server) {
	t.Helper()
	st := stripe.New(stripe.Options{SecretKey: testKey})
	srv := httptest.NewServer(st)
	t.Cleanup(srv.Close)
	form := url.Values{
		"mode": {"payment"}, "success_url": {"https://shop.example/thanks"},
		"line_items[0][quantity]": {"1"}, "line_items[0][price_data][currency]": {"eur"},
		"line_items[0][price_data][unit_amount]": {"1500"}, "line_items[0][price_data][product_data][name]": {"Tee"},
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/checkout/sessions", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create session = %d", resp.StatusCode)
	}
	return st, srv
}

func TestStripeStateSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, stripeStateName)
	if err := os.WriteFile(file, []byte("an older, broken save"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, srv := newStripe(t)

	if err := saveStripeState(before, file); err != nil {
		t.Fatalf("save: %v", err)
	}
	after := stripe.New(stripe.Options{SecretKey: testKey})
	var logged bytes.Buffer
	loadStripeState(after, file, slog.New(slog.NewTextHandler(&logged, nil)))

	if logged.Len() > 0 {
		t.Errorf("load logged %s", logged.String())
	}
	if diff := cmp.Diff(before.Sessions(), after.Sessions(), cmpopts.IgnoreUnexported(stripe.Session{})); diff != "" {
		t.Errorf("sessions after a restart (-before +after):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != stripeStateName {
		t.Errorf("directory holds %v, want only %s (no temporary file left)", entries, stripeStateName)
	}
	srvURL, _ := url.Parse(srv.URL)
	if got := previousPort(after); got != srvURL.Port() {
		t.Errorf("previous port = %q, want the pay links' %q", got, srvURL.Port())
	}
}

func TestLoadStripeStateStartsEmptyWhenItMust(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" for no file
		warns   bool
	}{
		{name: "no file yet"},
		{name: "not JSON", content: "{", warns: true},
		{name: "another version", content: `{"version": 99}`, warns: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), stripeStateName)
			if tt.content != "" {
				if err := os.WriteFile(file, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			st, _ := newStripe(t)
			var logged bytes.Buffer
			loadStripeState(st, file, slog.New(slog.NewTextHandler(&logged, nil)))

			got := []any{strings.Contains(logged.String(), "stripe stand-in starts empty"), len(st.Sessions())}
			want := []any{tt.warns, 1} // a failed load changes nothing
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("warned, sessions (-want +got):\n%s", diff)
			}
		})
	}
}
