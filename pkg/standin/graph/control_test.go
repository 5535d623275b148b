package graph

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFailControlFailsTheNextCalls(t *testing.T) {
	_, srv := newTestServer(t)
	for _, f := range []string{
		`{"count": 2, "status": 429, "code": 130429, "error_subcode": 2494055, "message": "(#130429) Rate limit hit", "details": "too many"}`,
		`{"count": 1, "status": 400, "code": 131056}`,
	} {
		if status, body := do(t, http.MethodPost, srv.URL+"/_control/fail", "", f); status != http.StatusOK {
			t.Fatalf("fail control = %d %v", status, body)
		}
	}

	var got []graphErr
	var messages []string
	for range 4 {
		status, body := do(t, http.MethodPost, sendURL(srv), testToken, textMessage("15550001111", "hi"))
		got = append(got, errorOf(status, body))
		if e, ok := body["error"].(map[string]any); ok {
			messages = append(messages, e["message"].(string))
		}
	}

	rateLimit := graphErr{Status: 429, Type: "OAuthException", Code: 130429, Subcode: 2494055, Details: "too many", Trace: true}
	pair := graphErr{Status: 400, Type: "OAuthException", Code: 131056, Trace: true}
	want := []graphErr{rateLimit, rateLimit, pair, {Status: 200}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	wantMessages := []string{
		"(#130429) Rate limit hit",
		"(#130429) Rate limit hit",
		"(#131056) (Business Account, Consumer Account) pair rate limit hit",
	}
	if diff := cmp.Diff(wantMessages, messages); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestFailControlRejectsBadRequests(t *testing.T) {
	_, srv := newTestServer(t)
	for _, body := range []string{
		`{"count": 0, "status": 429, "code": 130429}`,
		`{"count": 1, "status": 200, "code": 130429}`,
		`{"count": 1, "status": 429}`,
		`{"count": 1, "status": 429, "code": 130429, "cuont": 3}`,
	} {
		t.Run(body, func(t *testing.T) {
			if status, _ := do(t, http.MethodPost, srv.URL+"/_control/fail", "", body); status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", status)
			}
		})
	}
}

func TestControlMessagesFilterAndReset(t *testing.T) {
	_, srv := newTestServer(t)
	for _, to := range []string{"111", "222", "111"} {
		if status, body := do(t, http.MethodPost, sendURL(srv), testToken, textMessage(to, "hi "+to)); status != http.StatusOK {
			t.Fatalf("send = %d %v", status, body)
		}
	}
	do(t, http.MethodPost, srv.URL+"/_control/fail", "", `{"count": 5, "status": 500, "code": 131000}`)

	tos := func(query string) []string {
		t.Helper()
		resp, err := http.Get(srv.URL + "/_control/messages" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var msgs []Message
		if err := decodeJSON(resp, &msgs); err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, m := range msgs {
			out = append(out, m.To)
		}
		return out
	}
	if diff := cmp.Diff([]string{"111", "222", "111"}, tos("")); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"111", "111"}, tos("?to=111")); diff != "" {
		t.Errorf("to=111 (-want +got):\n%s", diff)
	}

	if status, _ := do(t, http.MethodPost, srv.URL+"/_control/reset", "", nil); status != http.StatusNoContent {
		t.Fatalf("reset = %d", status)
	}
	if diff := cmp.Diff([]string{}, tos("")); diff != "" {
		t.Errorf("after reset (-want +got):\n%s", diff)
	}
	if status, body := do(t, http.MethodPost, sendURL(srv), testToken, textMessage("111", "hi")); status != http.StatusOK {
		t.Errorf("send after reset = %d %v, want 200: reset must drop pending failures", status, body)
	}
}

func TestConcurrentSendsAreAllRecorded(t *testing.T) {
	s, srv := newTestServer(t)
	do(t, http.MethodPost, srv.URL+"/_control/fail", "", `{"count": 10, "status": 429, "code": 130429}`)
	const n = 50
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			statuses[i], _ = do(t, http.MethodPost, sendURL(srv), testToken, textMessage(fmt.Sprint(i), "hi"))
		})
		wg.Go(func() { s.Messages("") })
	}
	wg.Wait()

	count := map[int]int{}
	for _, st := range statuses {
		count[st]++
	}
	if diff := cmp.Diff(map[int]int{200: n - 10, 429: 10}, count); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	ids := map[string]bool{}
	for _, m := range s.Messages("") {
		ids[m.ID] = true
	}
	if len(ids) != n-10 {
		t.Errorf("%d distinct recorded ids, want %d", len(ids), n-10)
	}
}
