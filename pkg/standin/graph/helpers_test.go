package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

const (
	testToken   = "EAAtesttoken"
	testPhoneID = "106540352242922"
)

var testNow = time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)

// newTestServer starts the stand-in the way tests of the shop will: behind a
// real HTTP listener.
func newTestServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := New(Options{AccessToken: testToken, PhoneNumberID: testPhoneID, Now: func() time.Time { return testNow }})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func sendURL(srv *httptest.Server) string {
	return srv.URL + "/v25.0/" + testPhoneID + "/messages"
}

// do sends body (marshalled unless it already is []byte or string) and
// returns the status and the decoded JSON answer.
func do(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("answer is not a JSON object: %v\n%s", err, raw)
		}
	}
	return resp.StatusCode, out
}

// graphErr picks the fields of a Graph error answer the tests compare.
type graphErr struct {
	Status  int
	Type    string
	Code    int
	Subcode int
	Details string
	Trace   bool // fbtrace_id present
}

func errorOf(status int, body map[string]any) graphErr {
	e, _ := body["error"].(map[string]any)
	got := graphErr{Status: status}
	got.Type, _ = e["type"].(string)
	code, _ := e["code"].(float64)
	got.Code = int(code)
	sub, _ := e["error_subcode"].(float64)
	got.Subcode = int(sub)
	if d, ok := e["error_data"].(map[string]any); ok {
		got.Details, _ = d["details"].(string)
	}
	_, got.Trace = e["fbtrace_id"].(string)
	return got
}

func textMessage(to, body string) map[string]any {
	return map[string]any{
		"messaging_product": "whatsapp",
		"recipient_type":    "individual",
		"to":                to,
		"type":              "text",
		"text":              map[string]any{"body": body},
	}
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
