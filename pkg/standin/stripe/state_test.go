package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	stripego "github.com/stripe/stripe-go/v79"
)

// restart saves f's stand-in and loads the document into a new one behind a
// new listener and webhook, on the same clock: what restarting the dev
// server does.
func (f *fixture) restart(t *testing.T) *fixture {
	t.Helper()
	var doc bytes.Buffer
	if err := f.s.Save(&doc); err != nil {
		t.Fatalf("save: %v", err)
	}
	g := newFixtureAt(t, f.clock)
	if err := g.s.Load(&doc); err != nil {
		t.Fatalf("load: %v", err)
	}
	return g
}

// get answers a raw GET with the test key: status and body as sent.
func get(t *testing.T, rawURL string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestRestartKeepsASessionTheShopHolds(t *testing.T) {
	f := newFixture(t)
	p := sessionParams(f.clock.Now())
	p.SetIdempotencyKey("order-1-checkout")
	first, err := f.api.CheckoutSessions.New(p)
	if err != nil {
		t.Fatal(err)
	}
	_, before := get(t, f.srv.URL+"/v1/checkout/sessions/"+first.ID)

	g := f.restart(t)

	t.Run("retrieve answers the same session", func(t *testing.T) {
		status, after := get(t, g.srv.URL+"/v1/checkout/sessions/"+first.ID)
		if status != http.StatusOK {
			t.Fatalf("retrieve = %d %s", status, after)
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("session after restart (-before +after):\n%s", diff)
		}
	})

	t.Run("a retried create replays the first answer", func(t *testing.T) {
		retry := sessionParams(f.clock.Now())
		retry.SetIdempotencyKey("order-1-checkout")
		second, err := g.api.CheckoutSessions.New(retry)
		if err != nil {
			t.Fatal(err)
		}
		got := []any{second.ID, string(second.LastResponse.RawJSON),
			second.LastResponse.Header.Get("Idempotent-Replayed"), second.LastResponse.Header.Get("Original-Request"),
			len(g.s.Sessions())}
		want := []any{first.ID, string(first.LastResponse.RawJSON), "true", first.LastResponse.RequestID, 1}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("id, body, replayed, original request, sessions (-want +got):\n%s", diff)
		}
	})

	t.Run("pay and refund", func(t *testing.T) {
		status, res := g.action(t, first.ID, "pay", "")
		if status != http.StatusOK {
			t.Fatalf("pay = %d, want 200", status)
		}
		if got := res.Session.Status + "/" + res.Session.PaymentStatus; got != "complete/paid" {
			t.Errorf("session after pay = %s, want complete/paid", got)
		}
		if n := len(g.verified(t)); n != 1 {
			t.Errorf("%d events after pay, want 1", n)
		}
		refund, err := g.api.Refunds.New(&stripego.RefundParams{PaymentIntent: res.Session.PaymentIntent})
		if err != nil {
			t.Fatalf("refund: %v", err)
		}
		if refund.Amount != 3990 || refund.Status != stripego.RefundStatusSucceeded {
			t.Errorf("refund = %d %s, want 3990 succeeded", refund.Amount, refund.Status)
		}
	})
}

// Each case leaves a session half-way through its life, restarts, and takes
// the next step, which only works if the restart kept what it needs.
func TestRestartKeepsWhatTheNextStepNeeds(t *testing.T) {
	tests := []struct {
		name   string
		before func(t *testing.T, f *fixture, id string)
		after  func(t *testing.T, g *fixture, id string)
	}{
		{
			name: "a partly refunded payment refunds the rest",
			before: func(t *testing.T, f *fixture, id string) {
				_, res := f.action(t, id, "pay", "")
				if _, err := f.api.Refunds.New(&stripego.RefundParams{PaymentIntent: res.Session.PaymentIntent, Amount: stripego.Int64(1000)}); err != nil {
					t.Fatal(err)
				}
			},
			after: func(t *testing.T, g *fixture, id string) {
				sess, err := g.api.CheckoutSessions.Get(id, nil)
				if err != nil {
					t.Fatal(err)
				}
				rest, err := g.api.Refunds.New(&stripego.RefundParams{PaymentIntent: &sess.PaymentIntent.ID})
				if err != nil {
					t.Fatalf("refund the rest: %v", err)
				}
				if rest.Amount != 2990 {
					t.Errorf("refunded %d, want the 2990 left", rest.Amount)
				}
				if n := len(g.s.Refunds()); n != 2 {
					t.Errorf("%d refunds listed, want 2", n)
				}
			},
		},
		{
			name:   "a delayed payment settles",
			before: func(t *testing.T, f *fixture, id string) { f.action(t, id, "pay", `{"delayed": true}`) },
			after: func(t *testing.T, g *fixture, id string) {
				if status, res := g.action(t, id, "async-succeed", ""); status != http.StatusOK || res.Session.PaymentStatus != paymentPaid {
					t.Errorf("async-succeed = %d, payment %s; want 200, paid", status, res.Session.PaymentStatus)
				}
			},
		},
		{
			name: "a session expired by the API sends its owed event once",
			before: func(t *testing.T, f *fixture, id string) {
				if _, err := f.api.CheckoutSessions.Expire(id, nil); err != nil {
					t.Fatal(err)
				}
			},
			after: func(t *testing.T, g *fixture, id string) {
				got := []int{}
				for range 2 {
					status, _ := g.action(t, id, "expire", "")
					got = append(got, status)
				}
				if diff := cmp.Diff([]int{200, 409}, got); diff != "" {
					t.Errorf("expire control twice (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:   "the pay page lists the items",
			before: func(t *testing.T, f *fixture, id string) {},
			after: func(t *testing.T, g *fixture, id string) {
				status, page := get(t, g.srv.URL+"/pay/"+id)
				for _, want := range []string{"2 × T-shirt M: 15.00 EUR", "1 × Mug: 9.90 EUR"} {
					if status != http.StatusOK || !strings.Contains(page, want) {
						t.Errorf("pay page = %d, lacks %q", status, want)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.newSession(t)
			tt.before(t, f, id)
			tt.after(t, f.restart(t), id)
		})
	}
}

// internals is the state Save must keep, field by field, unexported ones
// included.
type internals struct {
	Sessions map[string]*Session
	Order    []string
	Intents  map[string]*paymentIntent
	Refunds  []Refund
	Idem     map[string]*idemEntry
}

func internalsOf(s *Server) internals {
	s.mu.Lock()
	defer s.mu.Unlock()
	return internals{s.sessions, s.order, s.intents, s.refunds, s.idem}
}

// A field Save forgets (one added later, say) shows up here even when no API
// answer shows it.
func TestSaveAndLoadKeepEveryField(t *testing.T) {
	f := newFixture(t)
	open := sessionParams(f.clock.Now())
	open.SetIdempotencyKey("k-open")
	if _, err := f.api.CheckoutSessions.New(open); err != nil {
		t.Fatal(err)
	}
	paid := f.newSession(t)
	_, res := f.action(t, paid, "pay", "")
	if _, err := f.api.Refunds.New(&stripego.RefundParams{PaymentIntent: res.Session.PaymentIntent, Amount: stripego.Int64(500)}); err != nil {
		t.Fatal(err)
	}
	f.action(t, f.newSession(t), "pay", `{"delayed": true}`)
	expired := f.newSession(t)
	if _, err := f.api.CheckoutSessions.Expire(expired, nil); err != nil {
		t.Fatal(err)
	}
	// An executed error is saved under its key too.
	if resp, _ := post(t, f.srv.URL+"/v1/checkout/sessions/"+expired+"/expire", testKey, "k-error", url.Values{}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("expire an expired session = %d, want 400", resp.StatusCode)
	}

	g := f.restart(t)

	opts := cmp.AllowUnexported(Session{}, idemEntry{}, response{})
	if diff := cmp.Diff(internalsOf(f.s), internalsOf(g.s), opts); diff != "" {
		t.Errorf("state after Save and Load (-saved +loaded):\n%s", diff)
	}
	var first, second bytes.Buffer
	if err := f.s.Save(&first); err != nil {
		t.Fatal(err)
	}
	if err := g.s.Save(&second); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first.String(), second.String()); diff != "" {
		t.Errorf("document saved again after Load (-first +second):\n%s", diff)
	}
}

func TestSaveLeavesOutTestControls(t *testing.T) {
	f := newFixture(t)
	f.action(t, f.newSession(t), "pay", "")
	f.s.Fail(Failure{Count: 1, Status: http.StatusInternalServerError})
	var doc bytes.Buffer
	if err := f.s.Save(&doc); err != nil {
		t.Fatal(err)
	}

	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	want := []string{"idempotency", "payment_intents", "refunds", "sessions", "version"}
	if diff := cmp.Diff(want, slices.Sorted(maps.Keys(top))); diff != "" {
		t.Errorf("document's fields (-want +got):\n%s", diff)
	}

	g := newFixtureAt(t, f.clock)
	if err := g.s.Load(&doc); err != nil {
		t.Fatal(err)
	}
	if r, e := len(g.s.Requests()), len(g.s.Events()); r+e != 0 {
		t.Errorf("after Load: %d requests, %d events; want none", r, e)
	}
	if _, err := g.api.CheckoutSessions.New(sessionParams(f.clock.Now())); err != nil {
		t.Errorf("create after Load: %v (the pending failure must not survive)", err)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		errIs   error  // nil when any error will do
		errText string // "" when Load must succeed
	}{
		{name: "empty", doc: ""},
		{name: "blank", doc: " \n"},
		{name: "no sessions", doc: `{"version": 1}`},
		{name: "unknown version", doc: `{"version": 2, "sessions": []}`, errIs: ErrStateVersion,
			errText: "load stripe stand-in state: unsupported stripe stand-in state version 2, want 1"},
		{name: "no version", doc: `{"sessions": []}`, errIs: ErrStateVersion, errText: "version 0, want 1"},
		{name: "not JSON", doc: `sessions: []`, errText: "decode stripe stand-in state: "},
		{name: "a session twice", doc: `{"version": 1, "sessions": [{"id": "cs_1"}, {"id": "cs_1"}]}`,
			errText: "session cs_1 appears twice"},
		{name: "a payment intent missing", doc: `{"version": 1, "sessions": [{"id": "cs_1", "payment_intent": "pi_1"}]}`,
			errText: "session cs_1: payment intent pi_1 is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.newSession(t)

			err := f.s.Load(strings.NewReader(tt.doc))

			switch {
			case tt.errText == "" && err != nil:
				t.Fatalf("Load = %v, want success", err)
			case tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)):
				t.Fatalf("Load = %v, want an error containing %q", err, tt.errText)
			case tt.errIs != nil && !errors.Is(err, tt.errIs):
				t.Errorf("Load = %v, want errors.Is %v", err, tt.errIs)
			}
			// Success replaces everything, requests included; failure keeps it all.
			want := []int{0, 0}
			if tt.errText != "" {
				want = []int{1, 1}
			}
			if diff := cmp.Diff(want, []int{len(f.s.Sessions()), len(f.s.Requests())}); diff != "" {
				t.Errorf("sessions and requests after Load (-want +got):\n%s", diff)
			}
		})
	}
}
