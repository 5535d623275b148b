//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/wa-shop/shop/pkg/lambdahttp"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// loadEnv is the function environment the load tests give with -env.
var loadEnv = []string{
	"WHATSAPP_APP_SECRET=app-secret", "WHATSAPP_PHONE_NUMBER_ID=106540352242922",
	"WHATSAPP_ACCESS_TOKEN=EAAtoken", "VERIFY_TOKEN=t", "STRIPE_WEBHOOK_SECRET=whsec_load",
}

type inboxFunc func(context.Context, *whatsapp.Batch) error

func (f inboxFunc) Receive(ctx context.Context, b *whatsapp.Batch) error { return f(ctx, b) }

// runWebhook is a webhook function for the load tests: the shop's own
// adapter, signature check and parsing (lambdahttp, whatsapp.NewWebhook)
// with an inbox that answers each new "hi" through the shop's Graph client,
// as the real webhook does, but without Postgres and Redis. "webhook-silent"
// answers 200 without sending; "webhook-flaky" fails every eighth message.
func runWebhook(mode string) {
	phoneID := os.Getenv("WHATSAPP_PHONE_NUMBER_ID")
	client := whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: os.Getenv("WHATSAPP_API_BASE_URL"), Version: "v25.0",
		PhoneNumberID: phoneID, AccessToken: os.Getenv("WHATSAPP_ACCESS_TOKEN")})
	seen, n := map[string]bool{}, 0
	inbox := inboxFunc(func(ctx context.Context, b *whatsapp.Batch) error {
		mine, _ := b.Inbound(phoneID)
		if len(mine) != 1 {
			return errors.New("want one message for our number")
		}
		m := mine[0]
		if m.Text == nil || m.Text.Body != "hi" || seen[m.ID] || seen[m.Sender.WaID] {
			return errors.New("not a new customer's hi")
		}
		seen[m.ID], seen[m.Sender.WaID] = true, true
		n++
		switch {
		case mode == "webhook-flaky" && n%8 == 0:
			return errors.New("flaky")
		case mode == "webhook-silent":
			return nil
		}
		_, err := client.Send(ctx, m.Sender.WaID, whatsapp.Text("Our catalogue"), uuid.Nil)
		return err
	})
	lambdahttp.Start(whatsapp.NewWebhook(whatsapp.WebhookConfig{AppSecret: os.Getenv("WHATSAPP_APP_SECRET"),
		VerifyToken: os.Getenv("VERIFY_TOKEN"), PhoneNumberID: phoneID}, inbox, slog.New(slog.DiscardHandler)))
}

// TestLoad runs the test binary as "webhook" (a link named as ./build.sh
// lays functions out) through a whole load run: events made and signed
// here, checked there, replies sent to the Graph stand-in, VmHWM read.
func TestLoad(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "webhook", "bootstrap")
	os.Mkdir(filepath.Dir(bin), 0o755)
	if err := os.Symlink(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode    string
		want    []string // invocations, replies, status
		wantErr bool
	}{
		{"webhook", []string{"40/40", "40/40", "200"}, false},
		{"webhook-silent", []string{"40/40", "0/40", "200, FAILED: replies missing"}, true},
		{"webhook-flaky", []string{"40/40", "35/40", "200 ×35, 503 ×5, FAILED: not all 200"}, true},
		{"exit", []string{"0/40", "–", "FAILED: exited"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			args := []string{"-load", "40", "-env", helperEnv + "=" + tt.mode}
			for _, kv := range loadEnv {
				args = append(args, "-env", kv)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append(args, bin), &stdout, &stderr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("run error = %v, want error %v\nstderr:\n%s", err, tt.wantErr, stderr.String())
			}
			row := tableRow(t, stdout.String(), "webhook")
			if diff := cmp.Diff(tt.want, []string{row[1], row[7], row[8]}); diff != "" {
				t.Errorf("invocations, replies, status (-want +got):\n%s\n%s", diff, stdout.String())
			}
			if tt.mode == "exit" {
				return
			}
			for _, cell := range row[2:7] { // rate, latencies and peak RSS
				if v, err := strconv.ParseFloat(cell, 64); err != nil || v <= 0 {
					t.Errorf("cell %q is not a positive number\n%s", cell, stdout.String())
				}
			}
		})
	}
}

// TestLoadEvents passes made-up events through lambdahttp, as the function
// receives them, to a check of what the shop checks: the signature with the
// secret from -env, and events new each time.
func TestLoadEvents(t *testing.T) {
	var got []string // what must differ between events
	tests := map[string]http.Handler{
		"webhook": whatsapp.NewWebhook(whatsapp.WebhookConfig{AppSecret: "app-secret", PhoneNumberID: "106540352242922"},
			inboxFunc(func(_ context.Context, b *whatsapp.Batch) error {
				for _, m := range must(b.Inbound("106540352242922")) {
					if m.Text == nil || m.Text.Body != "hi" {
						t.Errorf("message %+v, want text hi", m.Message)
					}
					got = append(got, m.ID, m.Sender.WaID)
				}
				return nil
			}), slog.New(slog.DiscardHandler)),
		"payment-callback": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			// Strict: the event's API version must be stripe-go's.
			e, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), "whsec_load")
			if err != nil || e.Type != "checkout.session.completed" || e.Data.Object["payment_status"] != "paid" {
				t.Errorf("event %s: %v", body, err)
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			got = append(got, e.ID, e.Data.Object["id"].(string), e.Data.Object["client_reference_id"].(string))
		}),
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			got = nil
			src, err := sourceFor(name, loadEnv, 123456)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				raw, err := src.event(i)
				if err != nil {
					t.Fatal(err)
				}
				var ev events.APIGatewayProxyRequest
				if err := json.Unmarshal(raw, &ev); err != nil {
					t.Fatal(err)
				}
				if want := "/.netlify/functions/" + name; ev.Path != want || ev.HTTPMethod != "POST" {
					t.Errorf("%s %s, want POST %s", ev.HTTPMethod, ev.Path, want)
				}
				resp, _ := lambdahttp.Handler(h)(context.Background(), ev)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("event %d answered %d %s", i, resp.StatusCode, resp.Body)
				}
			}
			if distinct := len(dedupe(got)); distinct != len(got) || len(got) == 0 {
				t.Errorf("ids %q: want distinct ones", got)
			}
		})
	}
}

func must[T any](v, _ T) T { return v }

func dedupe(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

func TestSourceForNeedsSecrets(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"webhook", []string{"WHATSAPP_PHONE_NUMBER_ID=1"}, "WHATSAPP_APP_SECRET"},
		// The last value wins, as in exec: an empty one unsets it.
		{"webhook", []string{"WHATSAPP_APP_SECRET=s", "WHATSAPP_PHONE_NUMBER_ID=1", "WHATSAPP_APP_SECRET="}, "WHATSAPP_APP_SECRET"},
		{"payment-callback", loadEnv[:3], "STRIPE_WEBHOOK_SECRET"},
		{"cleanup", loadEnv, "webhook and payment-callback only"},
	}
	for _, tt := range tests {
		if _, err := sourceFor(tt.name, tt.env, 1); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("sourceFor(%s, %q) error = %v, want one naming %s", tt.name, tt.env, err, tt.want)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	const status = "Name:\tbootstrap\nVmPeak:\t 1262520 kB\nVmSize:\t 1262520 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   21000 kB\n"
	tests := []struct {
		name, status string
		want         int64
		wantErr      bool
	}{
		{"process", status, 23456, false},
		{"kernel thread", "Name:\tkthreadd\nState:\tS (sleeping)\n", 0, true},
		{"no unit", "VmHWM:\t23456\n", 0, true},
		{"not a number", "VmHWM:\t2x3 kB\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmHWM([]byte(tt.status))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseVmHWM = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	// And the kernel's own: this test process has touched some memory.
	if got, err := vmHWM(os.Getpid()); err != nil || got < 1024 {
		t.Errorf("vmHWM(self) = %d KiB, %v", got, err)
	}
}
