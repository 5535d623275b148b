package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

const (
	testSecret  = "test-app-secret"
	testPhoneID = "106540352242922"
	testToken   = "EAAtesttoken"
	customer    = "15551234567"
)

func testEnv(key string) string {
	return map[string]string{"WHATSAPP_APP_SECRET": testSecret, "WHATSAPP_PHONE_NUMBER_ID": testPhoneID}[key]
}

// fakeShop is the shop as chat sees it: a webhook that checks Meta's
// signature and reads the notification with the shop's own parser, and a
// Graph stand-in it answers through. reply decides what it answers.
type fakeShop struct {
	t       *testing.T
	graph   *graph.Server
	graphWS *httptest.Server
	webhook *httptest.Server
	reply   func(m whatsapp.InboundMessage) [][]byte

	mu       sync.Mutex
	received []whatsapp.InboundMessage
}

func newFakeShop(t *testing.T, reply func(m whatsapp.InboundMessage) [][]byte) *fakeShop {
	f := &fakeShop{t: t, reply: reply}
	f.graph = graph.New(graph.Options{AccessToken: testToken, PhoneNumberID: testPhoneID})
	f.graphWS = httptest.NewServer(f.graph)
	t.Cleanup(f.graphWS.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook", f.handleWebhook)
	f.webhook = httptest.NewServer(mux)
	t.Cleanup(f.webhook.Close)
	return f
}

func (f *fakeShop) handleWebhook(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if whatsapp.VerifySignature(body, r.Header.Get(whatsapp.SignatureHeader), testSecret) != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	batch, err := whatsapp.ParseNotification(body)
	if err != nil {
		f.t.Errorf("parse notification: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	mine, others := batch.Inbound(testPhoneID)
	if len(mine) != 1 || len(others) != 0 {
		f.t.Errorf("notification holds %d messages to us and %d to others, want 1 and 0:\n%s", len(mine), len(others), body)
	}
	for _, m := range mine {
		f.mu.Lock()
		f.received = append(f.received, m)
		f.mu.Unlock()
		for _, out := range f.reply(m) {
			f.send(out)
		}
	}
}

// send posts a reply through the Graph stand-in's provider endpoint, as the
// shop's WhatsApp client does.
func (f *fakeShop) send(body []byte) {
	req, _ := http.NewRequest(http.MethodPost, f.graphWS.URL+"/v25.0/"+testPhoneID+"/messages", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Error(err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		answer, _ := io.ReadAll(resp.Body)
		f.t.Errorf("send reply = %s %s", resp.Status, answer)
	}
}

func (f *fakeShop) messages() []whatsapp.InboundMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]whatsapp.InboundMessage{}, f.received...)
}

// envelope addresses a payload (whatsapp.Text, …) to the customer, as the
// shop's client does.
func envelope(payload json.RawMessage) []byte {
	var m map[string]any
	_ = json.Unmarshal(payload, &m)
	m["messaging_product"], m["recipient_type"], m["to"] = "whatsapp", "individual", customer
	b, _ := json.Marshal(m)
	return b
}

func text(body string) []byte { return envelope(whatsapp.Text(body)) }

// chatRun runs chat with flags pointing at f and returns what it printed.
func chatRun(t *testing.T, f *fakeShop, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	args = append([]string{"-url", f.webhook.URL, "-graph", f.graphWS.URL, "-standins", filepath.Join(t.TempDir(), "none.json"),
		"-wa-id", customer, "-name", "Ada", "-wait", "5s"}, args...)
	err := run(t.Context(), args, strings.NewReader(stdin), &out, testEnv)
	return out.String(), err
}

func TestSayPostsASignedMessageAndPrintsTheReplies(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t, func(m whatsapp.InboundMessage) [][]byte {
		return [][]byte{golden(t, "list_catalogue.json"), text("Or just ask me.")}
	})
	f.send(text("an old reply, from before chat started"))
	// The stand-ins' URLs come from the file cmd/dev writes.
	file := filepath.Join(t.TempDir(), "standins.json")
	standins := fmt.Sprintf(`{"graph":%q,"stripe":"","webhook":%q}`, f.graphWS.URL, f.webhook.URL+"/webhook")
	if err := os.WriteFile(file, []byte(standins), 0o600); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	args := []string{"-standins", file, "-wa-id", customer, "-name", "Ada", "-say", "menu"}
	before := time.Now().Add(-time.Second)
	if err := run(t.Context(), args, strings.NewReader(""), &out, testEnv); err != nil {
		t.Fatal(err)
	}

	want := "shop: Here is what we have. Tap an item to order it.\n" +
		"      [View items]\n      In stock\n" +
		"        1. T-shirt M · €20.00 — 5 left\n        2. Mug · €8.00\n        3. More… — See more items\n" +
		"      (reply with a number to choose)\n" +
		"shop: Or just ask me.\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	got := f.messages()
	if len(got) != 1 {
		t.Fatalf("shop received %d messages, want 1", len(got))
	}
	m := got[0]
	if !strings.HasPrefix(m.ID, "wamid.") || m.Timestamp.Before(before.Truncate(time.Second)) || m.Timestamp.After(time.Now()) {
		t.Errorf("id %q, timestamp %v: want a fresh wamid stamped now", m.ID, m.Timestamp)
	}
	if !strings.HasPrefix(m.Sender.UserID, "US.") {
		t.Errorf("sender user_id = %q, want a BSUID", m.Sender.UserID)
	}
	type summary struct{ From, Kind, Text, WaID, Name, PhoneNumberID string }
	gotSum := summary{m.From, string(m.Kind()), m.Text.Body, m.Sender.WaID, m.Sender.Profile.Name, m.PhoneNumberID}
	wantSum := summary{customer, "text", "menu", customer, "Ada", testPhoneID}
	if diff := cmp.Diff(wantSum, gotSum); diff != "" {
		t.Errorf("message the shop read (-want +got):\n%s", diff)
	}
}

func TestNumbersAnswerTheLastChoices(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t, func(m whatsapp.InboundMessage) [][]byte {
		switch m.Kind() {
		case whatsapp.KindListReply:
			return [][]byte{text("You picked " + m.Interactive.ListReply.Title)}
		case whatsapp.KindText:
			if m.Text.Body == "menu" {
				return [][]byte{golden(t, "list_catalogue.json")}
			}
			return [][]byte{text("What do you mean by " + m.Text.Body + "?")}
		}
		return nil
	})
	// The second "2" follows a text reply, which offers no choices.
	out, err := chatRun(t, f, "menu\n2\n2\n/quit\nnever sent\n")
	if err != nil {
		t.Fatal(err)
	}

	got := f.messages()
	if len(got) != 3 {
		t.Fatalf("shop received %d messages, want 3", len(got))
	}
	list := f.graph.Messages(customer)[0]
	pick := got[1]
	if pick.Kind() != whatsapp.KindListReply || pick.Context == nil || pick.Context.ID != list.ID {
		t.Fatalf("second message = %+v, want a list_reply in answer to %s", pick.Message, list.ID)
	}
	want := whatsapp.Reply{ID: "sku:MUG", Title: "Mug · €8.00"}
	if diff := cmp.Diff(want, *pick.Interactive.ListReply); diff != "" {
		t.Errorf("list_reply (-want +got):\n%s", diff)
	}
	if got[2].Kind() != whatsapp.KindText || got[2].Text.Body != "2" {
		t.Errorf("third message = %+v, want the text 2", got[2].Message)
	}
	for _, line := range []string{`(you chose "Mug · €8.00")`, "shop: You picked Mug · €8.00", "shop: What do you mean by 2?"} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

func TestPayPaysTheLastLinkThroughTheStripeStandIn(t *testing.T) {
	t.Parallel()
	var f *fakeShop
	var paid []string
	stripe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, prefixed := strings.CutPrefix(r.URL.Path, "/_control/sessions/")
		id, suffixed := strings.CutSuffix(id, "/pay")
		if !prefixed || !suffixed || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		paid = append(paid, id)
		f.send(text("Thanks, your payment arrived!")) // what the shop does on Stripe's event
		_ = json.NewEncoder(w).Encode(map[string]any{"webhook_status": 200})
	}))
	t.Cleanup(stripe.Close)
	link := stripe.URL + "/pay/cs_test_a1B2c3"
	f = newFakeShop(t, func(m whatsapp.InboundMessage) [][]byte {
		return [][]byte{envelope(whatsapp.CTAURL("Your order 1A2B3C4D: 1 × Mug", "Pay now", link))}
	})

	out, err := chatRun(t, f, "buy MUG 1\n/pay\n/pay https://checkout.stripe.com/c/pay/cs_live_x\n", "-stripe", stripe.URL)
	if err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff([]string{"cs_test_a1B2c3"}, paid); diff != "" {
		t.Errorf("sessions paid (-want +got):\n%s", diff)
	}
	for _, line := range []string{
		"checkout page: " + link,
		"(paid cs_test_a1B2c3; the shop's payment-callback answered 200)",
		"shop: Thanks, your payment arrived!",
		"checkout page: https://checkout.stripe.com/c/pay/cs_live_x\n(not the local Stripe stand-in's page",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

func TestSayFailsLoudly(t *testing.T) {
	t.Parallel()
	silent := newFakeShop(t, func(whatsapp.InboundMessage) [][]byte { return nil })
	tests := []struct {
		name string
		env  func(string) string
		args []string
		want string
	}{
		{"no reply", testEnv, []string{"-wait", "300ms"}, "no reply within 300ms"},
		{"another app secret", func(k string) string {
			if k == "WHATSAPP_APP_SECRET" {
				return "not-the-shops"
			}
			return testEnv(k)
		}, nil, "disagree on WHATSAPP_APP_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-url", silent.webhook.URL, "-graph", silent.graphWS.URL,
				"-standins", filepath.Join(t.TempDir(), "none.json"), "-say", "hello"}, tt.args...)
			err := run(t.Context(), args, strings.NewReader(""), io.Discard, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
