package graph

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

const testAppSecret = "test-app-secret"

// receiver is the shop's webhook as far as callbacks care: it checks the
// signature on the raw bytes, as the shop must, and hands over the bodies.
// While gate is open (not closed) it holds every request, like a slow shop.
func receiver(t *testing.T, gate chan struct{}) (string, chan []byte) {
	t.Helper()
	got := make(chan []byte, 256)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := whatsapp.VerifySignature(body, r.Header.Get(whatsapp.SignatureHeader), testAppSecret); err != nil {
			t.Errorf("callback signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got <- body
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

func newCallbackServer(t *testing.T, opts CallbackOptions) (*Server, *Callbacks, *httptest.Server) {
	t.Helper()
	s := New(Options{AccessToken: testToken, PhoneNumberID: testPhoneID, Now: func() time.Time { return testNow }})
	c := WithCallbacks(s, opts)
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	t.Cleanup(c.Close) // runs first: abandons callbacks held by a gated receiver
	return s, c, srv
}

// send posts body and returns the wamid the stand-in answered with.
func send(t *testing.T, srv *httptest.Server, body map[string]any) string {
	t.Helper()
	status, got := do(t, http.MethodPost, sendURL(srv), testToken, body)
	if status != http.StatusOK {
		t.Fatalf("send = %d %v", status, got)
	}
	return got["messages"].([]any)[0].(map[string]any)["id"].(string)
}

func statusURL(srv *httptest.Server, id string) string {
	return srv.URL + "/_control/messages/" + url.PathEscape(id) + "/status"
}

func next(t *testing.T, got chan []byte) []byte {
	t.Helper()
	select {
	case b := <-got:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no callback within 5s")
		return nil
	}
}

func TestStatusControlPostsMetaShapedCallback(t *testing.T) {
	template := map[string]any{"messaging_product": "whatsapp", "to": "15550001111", "type": "template",
		"template": map[string]any{"name": "order_confirmation", "language": map[string]any{"code": "en"}}}
	tests := []struct {
		name, status string
		body         map[string]any
		wantPricing  any // absent when nil
	}{
		{"delivered text", "delivered", textMessage("+1 650-555-1234", "hi"),
			map[string]any{"billable": false, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}},
		{"sent template", "sent", template,
			map[string]any{"billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility"}},
		{"read", "read", textMessage("15550001111", "hi"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook, got := receiver(t, nil)
			_, _, srv := newCallbackServer(t, CallbackOptions{WebhookURL: hook, AppSecret: testAppSecret})
			tt.body["biz_opaque_callback_data"] = "outbox-42"
			id := send(t, srv, tt.body)

			status, answer := do(t, http.MethodPost, statusURL(srv, id), "", map[string]string{"status": tt.status})
			if status != http.StatusOK || answer["webhook_status"] != float64(200) {
				t.Fatalf("control = %d %v, want 200 with webhook_status 200", status, answer)
			}

			raw := next(t, got)
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
			st := map[string]any{"id": id, "status": tt.status, "timestamp": strconv.FormatInt(testNow.Unix(), 10),
				"recipient_id": waID(tt.body["to"].(string)), "biz_opaque_callback_data": "outbox-42"}
			if tt.wantPricing != nil {
				st["pricing"] = tt.wantPricing
			}
			want := map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
				"id": "100000000000000", "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata":          map[string]any{"display_phone_number": "15550000000", "phone_number_id": testPhoneID},
					"statuses":          []any{st},
				}}},
			}}}
			if diff := cmp.Diff(want, body); diff != "" {
				t.Errorf("callback (-want +got):\n%s", diff)
			}
			// The shop's own parser must read it as Meta's.
			batch, err := whatsapp.ParseNotification(raw)
			if err != nil {
				t.Fatal(err)
			}
			sts := batch.Statuses()
			if len(sts) != 1 || sts[0].ID != id || sts[0].Status != tt.status || !sts[0].Timestamp.Equal(testNow) {
				t.Errorf("parsed statuses = %+v", sts)
			}
		})
	}
}

func TestAutoStatusesFollowEachSendWithoutHoldingItUp(t *testing.T) {
	gate := make(chan struct{})
	hook, got := receiver(t, gate)
	_, _, srv := newCallbackServer(t, CallbackOptions{WebhookURL: hook, AppSecret: testAppSecret, AutoStatuses: true})

	// The receiver holds every callback, yet each send is answered.
	ids := map[string]bool{}
	for i := range 3 {
		ids[send(t, srv, textMessage("1555000111"+strconv.Itoa(i), "hi"))] = true
	}
	close(gate)

	seen := map[string][]string{}
	for range 6 {
		batch, err := whatsapp.ParseNotification(next(t, got))
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range batch.Statuses() {
			seen[st.ID] = append(seen[st.ID], st.Status)
		}
	}
	for id := range ids {
		if diff := cmp.Diff([]string{"sent", "delivered"}, seen[id]); diff != "" {
			t.Errorf("statuses of %s (-want +got):\n%s", id, diff)
		}
	}
}

func TestAutoStatusesAreBounded(t *testing.T) {
	gate := make(chan struct{})
	hook, got := receiver(t, gate)
	_, c, srv := newCallbackServer(t, CallbackOptions{WebhookURL: hook, AppSecret: testAppSecret, AutoStatuses: true})
	for range maxInFlight {
		send(t, srv, textMessage("15550001111", "hi"))
	}
	for range maxInFlight {
		next(t, got) // every slot is now held by the receiver
	}
	send(t, srv, textMessage("15550001111", "one too many"))

	d := c.Deliveries()
	if len(d) != 1 || !strings.HasPrefix(d[0].WebhookError, "dropped:") {
		t.Errorf("deliveries = %+v, want one dropped callback", d)
	}
	close(gate)
}

func TestStatusControlRejectsBadCalls(t *testing.T) {
	hook, _ := receiver(t, nil)
	s, _, srv := newCallbackServer(t, CallbackOptions{WebhookURL: hook, AppSecret: testAppSecret})
	_, _, bare := newCallbackServer(t, CallbackOptions{})
	// A wamid is base64: a "/" in it must survive the path.
	s.record(Message{ID: "wamid.HBgL/x+y=", To: "15550001111", Type: "text", Body: json.RawMessage(`{}`)})
	id := send(t, srv, textMessage("15550001111", "hi"))
	bareID := send(t, bare, textMessage("15550001111", "hi"))

	tests := []struct {
		name string
		url  string
		body string
		want int
	}{
		{"slash in wamid", statusURL(srv, "wamid.HBgL/x+y="), `{"status":"read"}`, http.StatusOK},
		{"unknown message", statusURL(srv, "wamid.nope"), `{"status":"read"}`, http.StatusNotFound},
		{"failed is not offered", statusURL(srv, id), `{"status":"failed"}`, http.StatusBadRequest},
		{"misspelt field", statusURL(srv, id), `{"stauts":"read"}`, http.StatusBadRequest},
		{"no webhook", statusURL(bare, bareID), `{"status":"read"}`, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, body := do(t, http.MethodPost, tt.url, "", tt.body); status != tt.want {
				t.Errorf("status = %d %v, want %d", status, body, tt.want)
			}
		})
	}
}
