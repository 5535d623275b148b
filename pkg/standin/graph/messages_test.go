package graph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSendAnswersMetaShapeAndRecords(t *testing.T) {
	s, srv := newTestServer(t)
	body := textMessage("+1 650-555-1234", "Your order is confirmed")
	body["biz_opaque_callback_data"] = "outbox-42"

	status, got := do(t, http.MethodPost, sendURL(srv), testToken, body)

	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %v", status, got)
	}
	msgs := got["messages"].([]any)
	id := msgs[0].(map[string]any)["id"].(string)
	if !strings.HasPrefix(id, "wamid.") {
		t.Errorf("message id = %q, want a wamid.", id)
	}
	want := map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []any{map[string]any{"input": "+1 650-555-1234", "wa_id": "16505551234"}},
		"messages":          []any{map[string]any{"id": id}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}

	rec := s.Messages("")
	if len(rec) != 1 {
		t.Fatalf("recorded %d messages, want 1", len(rec))
	}
	var recorded map[string]any
	if err := json.Unmarshal(rec[0].Body, &recorded); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(body, recorded); diff != "" {
		t.Errorf("recorded body (-want +got):\n%s", diff)
	}
	wantRec := Message{ID: id, To: "+1 650-555-1234", Type: "text", Time: testNow}
	rec[0].Body = nil
	if diff := cmp.Diff(wantRec, rec[0]); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

func TestSendRejectsBadCallers(t *testing.T) {
	_, srv := newTestServer(t)
	tests := []struct {
		name  string
		url   string
		token string
		want  graphErr
	}{
		{"no token", sendURL(srv), "", graphErr{Status: 401, Type: "OAuthException", Code: 190, Trace: true}},
		{"wrong token", sendURL(srv), "EAAwrong", graphErr{Status: 401, Type: "OAuthException", Code: 190, Trace: true}},
		{"other phone number id", srv.URL + "/v25.0/999/messages", testToken,
			graphErr{Status: 400, Type: "GraphMethodException", Code: 100, Subcode: 33, Trace: true}},
		{"no version", srv.URL + "/" + testPhoneID + "/messages", testToken,
			graphErr{Status: 400, Type: "OAuthException", Code: 2500, Trace: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, http.MethodPost, tt.url, tt.token, textMessage("15550001111", "hi"))
			if diff := cmp.Diff(tt.want, errorOf(status, body)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendValidatesLikeMeta(t *testing.T) {
	tests := []struct {
		name string
		body any
		want graphErr // Status 200 means accepted
	}{
		{"text", textMessage("1555", "hi"), graphErr{Status: 200}},
		{"type defaults to text", without(textMessage("1555", "hi"), "type"), graphErr{Status: 200}},
		{"text at 4096 characters", textMessage("1555", strings.Repeat("é", 4096)), graphErr{Status: 200}},
		{"text over 4096 characters", textMessage("1555", strings.Repeat("a", 4097)), invalid100()},
		{"empty text", textMessage("1555", ""), invalid100()},
		{"no messaging_product", without(textMessage("1555", "hi"), "messaging_product"), invalid100()},
		{"wrong messaging_product", with(textMessage("1555", "hi"), "messaging_product", "sms"), invalid100()},
		{"no to", without(textMessage("1555", "hi"), "to"), invalid100()},
		{"unsupported type", with(textMessage("1555", "hi"), "type", "image"), invalid100()},
		{"not JSON", "{", invalid100()},
		{"to is a number", `{"messaging_product":"whatsapp","to":1555,"text":{"body":"x"}}`, invalid100()},

		{"list of 10 rows in 2 sections", list(5, 5), graphErr{Status: 200}},
		{"list of 11 rows", list(6, 5), notValid131009("Total row count exceed max allowed count: 10")},
		{"list of 11 sections", list(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), notValid131009("Invalid number of sections: 11. Min allowed: 1, max allowed: 10")},
		{"list without rows", list(0), notValid131009("Min allowed rows: 1")},
		{"list without body", without(list(1), "interactive", "body"), invalid100()},

		{"body at 1024 characters", withBody(buttons(1), strings.Repeat("é", 1024)), graphErr{Status: 200}},
		{"body over 1024 characters", withBody(buttons(1), strings.Repeat("a", 1025)), invalid100()},
		{"3 buttons", buttons(3), graphErr{Status: 200}},
		{"4 buttons", buttons(4), notValid131009("Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3")},
		{"no buttons", buttons(0), notValid131009("Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3")},

		{"30 products in 10 sections", productList(3, 3, 3, 3, 3, 3, 3, 3, 3, 3), graphErr{Status: 200}},
		{"31 products", productList(30, 1), notValid131009("Total product count exceed max allowed count: 30")},
		{"11 product sections", productList(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), notValid131009("Invalid number of sections: 11. Min allowed: 1, max allowed: 10")},
		{"product_list without header", without(productList(1), "interactive", "header"), invalid100()},
		{"product_list without catalog", without(productList(1), "interactive", "action", "catalog_id"), invalid100()},

		{"template", templateMessage("order_confirmation", "en_US"), graphErr{Status: 200}},
		{"template without name", templateMessage("", "en_US"), invalid100()},
		{"template without language", templateMessage("order_confirmation", ""), invalid100()},
	}
	_, srv := newTestServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, http.MethodPost, sendURL(srv), testToken, tt.body)
			got := errorOf(status, body)
			if status == http.StatusOK {
				got = graphErr{Status: status}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s\nbody: %v", diff, body)
			}
		})
	}
}

func invalid100() graphErr {
	return graphErr{Status: 400, Type: "OAuthException", Code: 100, Trace: true}
}

func notValid131009(details string) graphErr {
	return graphErr{Status: 400, Type: "OAuthException", Code: 131009, Details: details, Trace: true}
}

// with returns a copy of m with key set; without a copy with the key at path
// removed.
func with(m map[string]any, key string, v any) map[string]any {
	out := copyMap(m)
	out[key] = v
	return out
}

func without(m map[string]any, path ...string) map[string]any {
	out := copyMap(m)
	cur := out
	for _, k := range path[:len(path)-1] {
		cur = cur[k].(map[string]any)
	}
	delete(cur, path[len(path)-1])
	return out
}

// copyMap deep-copies through a JSON round trip, which is all these bodies are.
func copyMap(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func interactiveMessage(in map[string]any) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "to": "15550001111", "type": "interactive", "interactive": in}
}

func list(rowsPerSection ...int) map[string]any {
	var sections []any
	for i, n := range rowsPerSection {
		var rows []any
		for j := range n {
			rows = append(rows, map[string]any{"id": fmt.Sprintf("r%d-%d", i, j), "title": "Row", "description": "A row"})
		}
		sections = append(sections, map[string]any{"title": fmt.Sprintf("Section %d", i), "rows": rows})
	}
	return interactiveMessage(map[string]any{
		"type":   "list",
		"body":   map[string]any{"text": "Pick one"},
		"action": map[string]any{"button": "Options", "sections": sections},
	})
}

// withBody sets an interactive message's body text.
func withBody(m map[string]any, text string) map[string]any {
	out := copyMap(m)
	in := copyMap(out["interactive"].(map[string]any))
	in["body"] = map[string]any{"text": text}
	out["interactive"] = in
	return out
}

func buttons(n int) map[string]any {
	bs := []any{}
	for i := range n {
		bs = append(bs, map[string]any{"type": "reply", "reply": map[string]any{"id": fmt.Sprint("b", i), "title": fmt.Sprint("Button ", i)}})
	}
	return interactiveMessage(map[string]any{
		"type":   "button",
		"body":   map[string]any{"text": "Confirm?"},
		"action": map[string]any{"buttons": bs},
	})
}

func productList(itemsPerSection ...int) map[string]any {
	var sections []any
	for i, n := range itemsPerSection {
		var items []any
		for j := range n {
			items = append(items, map[string]any{"product_retailer_id": fmt.Sprintf("SKU-%d-%d", i, j)})
		}
		sections = append(sections, map[string]any{"title": fmt.Sprintf("Section %d", i), "product_items": items})
	}
	return interactiveMessage(map[string]any{
		"type":   "product_list",
		"header": map[string]any{"type": "text", "text": "Our shop"},
		"body":   map[string]any{"text": "Have a look"},
		"action": map[string]any{"catalog_id": "146265584024623", "sections": sections},
	})
}

func templateMessage(name, lang string) map[string]any {
	return map[string]any{
		"messaging_product": "whatsapp",
		"to":                "15550001111",
		"type":              "template",
		"template":          map[string]any{"name": name, "language": map[string]any{"code": lang}},
	}
}

// A dev stack without secrets configures neither; the stand-in then accepts
// any token and phone number id, but still wants a token.
func TestOpenServerAcceptsAnyTokenAndPhoneID(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	t.Cleanup(srv.Close)
	url := srv.URL + "/v25.0/42/messages"
	if status, body := do(t, http.MethodPost, url, "anything", textMessage("1555", "hi")); status != http.StatusOK {
		t.Errorf("any token = %d %v, want 200", status, body)
	}
	if status, _ := do(t, http.MethodPost, url, "", textMessage("1555", "hi")); status != http.StatusUnauthorized {
		t.Errorf("no token = %d, want 401", status)
	}
}
