package whatsapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/testenv"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

const (
	graphToken   = "EAAG-client-test-token"
	graphPhoneID = "106540352242922"
	customer     = "15550001111"
)

// newGraph starts the real stand-in behind an HTTP listener and a Client
// pointed at it.
func newGraph(t *testing.T) (*graph.Server, *whatsapp.Client) {
	t.Helper()
	g := graph.New(graph.Options{AccessToken: graphToken, PhoneNumberID: graphPhoneID})
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, newClient(srv.URL, graphToken)
}

func newClient(baseURL, token string) *whatsapp.Client {
	return whatsapp.NewClient(whatsapp.ClientConfig{
		BaseURL: baseURL, Version: "v25.0", PhoneNumberID: graphPhoneID, AccessToken: token,
	})
}

func TestSendReturnsTheWAMIDAndCarriesTheOutboxID(t *testing.T) {
	g, c := newGraph(t)
	id := uuid.New()

	wamid, err := c.Send(t.Context(), customer, whatsapp.Text("Your order is confirmed."), id)
	if err != nil {
		t.Fatal(err)
	}
	sent := g.Messages(customer)
	if len(sent) != 1 || sent[0].ID != wamid {
		t.Fatalf("stand-in recorded %+v, want one message with id %s", sent, wamid)
	}
	var got map[string]any
	if err := json.Unmarshal(sent[0].Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"messaging_product":        "whatsapp",
		"recipient_type":           "individual",
		"to":                       customer,
		"type":                     "text",
		"text":                     map[string]any{"body": "Your order is confirmed."},
		"biz_opaque_callback_data": id.String(),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body as sent (-want +got):\n%s", diff)
	}
}

func TestPayloadsAreWhatMetaExpects(t *testing.T) {
	tests := []struct {
		name    string
		payload json.RawMessage
		want    string
	}{
		{"text", whatsapp.Text("hi"), `{"type":"text","text":{"body":"hi"}}`},
		{"template", whatsapp.Template("order_confirmation", "en"),
			`{"type":"template","template":{"name":"order_confirmation","language":{"code":"en"}}}`},
		{"template with parameters", whatsapp.Template("shipping_update", "de", "A-17", "DHL"),
			`{"type":"template","template":{"name":"shipping_update","language":{"code":"de"},"components":[{"type":"body","parameters":[{"type":"text","text":"A-17"},{"type":"text","text":"DHL"}]}]}}`},
	}
	g, c := newGraph(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, string(tt.payload)); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
			if _, err := c.Send(t.Context(), customer, tt.payload, uuid.New()); err != nil {
				t.Errorf("stand-in refused it: %v", err)
			}
		})
	}
	if n := len(g.Messages("")); n != len(tests) {
		t.Errorf("stand-in recorded %d messages, want %d", n, len(tests))
	}
}

// class names what the outbox will do with an error.
func class(err error) string {
	var p *outbox.PermanentError
	var w *outbox.WindowClosedError
	var r *outbox.RateLimitError
	switch {
	case err == nil:
		return "sent"
	case errors.As(err, &p):
		return "permanent"
	case errors.As(err, &w):
		return "template only"
	case errors.As(err, &r):
		return "rate limit"
	}
	return "transient"
}

func TestGraphErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name string
		f    graph.Failure
		want string
	}{
		{"server error", graph.Failure{Status: 500, Code: 131000}, "transient"},
		{"service unavailable", graph.Failure{Status: 503, Code: 2}, "transient"},
		{"throughput", graph.Failure{Status: 429, Code: 130429}, "rate limit"},
		{"throughput answered 400", graph.Failure{Status: 400, Code: 130429}, "rate limit"},
		{"pair rate limit", graph.Failure{Status: 400, Code: 131056}, "rate limit"},
		{"app request limit", graph.Failure{Status: 400, Code: 4}, "rate limit"},
		{"WABA rate limit", graph.Failure{Status: 400, Code: 80007}, "rate limit"},
		{"re-engagement window", graph.Failure{Status: 400, Code: 131047}, "template only"},
		{"undeliverable", graph.Failure{Status: 400, Code: 131026}, "permanent"},
		{"invalid parameter", graph.Failure{Status: 400, Code: 100}, "permanent"},
		{"parameter not valid", graph.Failure{Status: 400, Code: 131009}, "permanent"},
		{"expired token", graph.Failure{Status: 401, Code: 190}, "transient"},
	}
	g, c := newGraph(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Count = 1
			g.Fail(tt.f)
			_, err := c.Send(t.Context(), customer, whatsapp.Text("hi"), uuid.New())
			if got := class(err); got != tt.want {
				t.Errorf("%v classified %s, want %s", err, got, tt.want)
			}
			var apiErr *whatsapp.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tt.f.Code || apiErr.HTTPStatus != tt.f.Status {
				t.Errorf("error %v does not carry the Graph error", err)
			}
		})
	}
	if n := len(g.Messages("")); n != 0 {
		t.Errorf("stand-in recorded %d messages through failures", n)
	}
}

// lockedBuffer collects log lines written from the client.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestBadCredentialsAreTransientAndLoud(t *testing.T) {
	g := graph.New(graph.Options{AccessToken: graphToken, PhoneNumberID: graphPhoneID})
	srv := httptest.NewServer(g)
	defer srv.Close()
	for name, cfg := range map[string]whatsapp.ClientConfig{
		"wrong token":           {AccessToken: "EAAG-revoked-secret", PhoneNumberID: graphPhoneID},
		"wrong phone number id": {AccessToken: graphToken, PhoneNumberID: "999999999"},
	} {
		t.Run(name, func(t *testing.T) {
			var logs lockedBuffer
			cfg.BaseURL, cfg.Version, cfg.Log = srv.URL, "v25.0", slog.New(slog.NewJSONHandler(&logs, nil))
			_, err := whatsapp.NewClient(cfg).Send(t.Context(), customer, whatsapp.Text("secret order details"), uuid.New())
			if got := class(err); got != "transient" {
				t.Errorf("%v classified %s, want transient", err, got)
			}
			out := logs.String()
			if !strings.Contains(out, "WHATSAPP_ACCESS_TOKEN") || !strings.Contains(out, "*******1111") {
				t.Errorf("log does not name the fix or the masked recipient:\n%s", out)
			}
			for _, secret := range []string{cfg.AccessToken, customer, "secret order details"} {
				if strings.Contains(out, secret) || strings.Contains(err.Error(), secret) {
					t.Errorf("log or error holds %q:\n%s\n%v", secret, out, err)
				}
			}
		})
	}
}

func TestTransportFailures(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		want      string
		wantAfter time.Duration
	}{
		{"proxy error page", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>bad gateway</html>"))
		}, "transient", 0},
		{"retry-after honoured", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429}}`))
		}, "rate limit", 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			_, err := newClient(srv.URL, graphToken).Send(t.Context(), customer, whatsapp.Text("hi"), uuid.New())
			if got := class(err); got != tt.want {
				t.Errorf("%v classified %s, want %s", err, got, tt.want)
			}
			var rl *outbox.RateLimitError
			if errors.As(err, &rl) && rl.RetryAfter != tt.wantAfter {
				t.Errorf("retry after %s, want %s", rl.RetryAfter, tt.wantAfter)
			}
			if strings.Contains(err.Error(), "<html>") {
				t.Errorf("error repeats the response body: %v", err)
			}
		})
	}
}

func TestSendHonoursTheContextDeadline(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // Meta never answers while the client waits
	}))
	defer hung.Close()
	defer close(release) // before Close, which waits for the handler
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := newClient(hung.URL, graphToken).Send(ctx, customer, whatsapp.Text("hi"), uuid.New())
	if !errors.Is(err, context.DeadlineExceeded) || class(err) != "transient" {
		t.Errorf("err = %v (%s), want a transient deadline error", err, class(err))
	}
}

func TestSendRefusesABadPayloadWithoutCallingMeta(t *testing.T) {
	g, c := newGraph(t)
	_, err := c.Send(t.Context(), customer, json.RawMessage(`["text"]`), uuid.New())
	if class(err) != "permanent" {
		t.Errorf("err = %v, want permanent", err)
	}
	if n := len(g.Messages("")); n != 0 {
		t.Errorf("stand-in got %d messages", n)
	}
}

// clock is the end-to-end tests' time, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// TestOutboxThroughTheStandIn runs invariant 5 end to end: a message
// enqueued in a transaction, sent after commit through the real Client to
// the real stand-in, retried by the clock after Meta fails, sent once.
func TestOutboxThroughTheStandIn(t *testing.T) {
	g, c := newGraph(t)
	clk := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	ob := &outbox.Outbox{DB: testenv.DB(t), Sender: c, Now: clk.Now}

	enqueue := func() uuid.UUID {
		t.Helper()
		tx, err := ob.DB.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(context.Background())
		id, err := outbox.Enqueue(t.Context(), tx, outbox.Message{Kind: "reply", Recipient: customer, Payload: whatsapp.Text("Thanks!")})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		return id
	}

	first := enqueue()
	if got, err := ob.Deliver(t.Context(), first); got != outbox.Sent || err != nil {
		t.Fatalf("Deliver = %s, %v", got, err)
	}
	if sent := g.Messages(customer); len(sent) != 1 || !bytes.Contains(sent[0].Body, []byte(first.String())) {
		t.Fatalf("stand-in has %+v, want one message carrying %s", sent, first)
	}

	g.Fail(graph.Failure{Count: 1, Status: 500, Code: 131000})
	second := enqueue()
	if got, err := ob.Deliver(t.Context(), second); got != outbox.Retrying || err != nil {
		t.Fatalf("Deliver against a failing Graph = %s, %v; want retrying", got, err)
	}
	if rep, _ := ob.RetryDue(t.Context(), 10); rep != (outbox.Report{}) {
		t.Errorf("RetryDue before the backoff = %+v, want nothing", rep)
	}
	clk.Add(time.Minute)
	if rep, err := ob.RetryDue(t.Context(), 10); rep != (outbox.Report{Sent: 1}) || err != nil {
		t.Errorf("RetryDue after the backoff = %+v, %v; want one sent", rep, err)
	}
	clk.Add(time.Hour)
	if rep, _ := ob.RetryDue(t.Context(), 10); rep != (outbox.Report{}) {
		t.Errorf("later RetryDue = %+v, want nothing", rep)
	}
	sent := g.Messages(customer)
	if len(sent) != 2 || !bytes.Contains(sent[1].Body, []byte(second.String())) {
		t.Fatalf("stand-in has %d messages, want the two, each once", len(sent))
	}

	// Meta's status webhook finds the row by the wamid the stand-in gave.
	if err := ob.UpdateStatus(t.Context(), sent[1].ID, "", outbox.StatusRead, ""); err != nil {
		t.Fatal(err)
	}
	var status string
	if err := ob.DB.QueryRow(t.Context(), `SELECT status FROM outbox WHERE id = $1`, second).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != outbox.StatusRead {
		t.Errorf("status = %s, want read", status)
	}
}
