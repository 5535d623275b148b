package stripe

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	stripego "github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"
)

// newSession creates a session through stripe-go and returns its id.
func (f *fixture) newSession(t *testing.T) string {
	t.Helper()
	sess, err := f.api.CheckoutSessions.New(sessionParams(f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return sess.ID
}

// action posts a session control action and decodes its result.
func (f *fixture) action(t *testing.T, id, action, body string) (int, ActionResult) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/_control/sessions/"+id+"/"+action, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res ActionResult
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, res
}

// verified checks every event the hook received the way the shop's
// payment-callback will, and returns them.
func (f *fixture) verified(t *testing.T) []stripego.Event {
	t.Helper()
	payloads, sigs := f.hook.received()
	var out []stripego.Event
	for i := range payloads {
		ev, err := webhook.ConstructEventWithOptions(payloads[i], sigs[i], testSecret,
			webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
		if err != nil {
			t.Fatalf("event %d does not verify: %v", i, err)
		}
		out = append(out, ev)
	}
	return out
}

func sessionOf(t *testing.T, ev stripego.Event) stripego.CheckoutSession {
	t.Helper()
	var s stripego.CheckoutSession
	if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPayDeliversASignedCompletedEvent(t *testing.T) {
	f := newFixture(t)
	id := f.newSession(t)

	status, res := f.action(t, id, "pay", "")

	if status != http.StatusOK || res.WebhookStatus != http.StatusOK || res.WebhookError != "" {
		t.Fatalf("pay = %d, webhook %d %q", status, res.WebhookStatus, res.WebhookError)
	}
	events := f.verified(t)
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	ev := events[0]
	if !strings.HasPrefix(ev.ID, "evt_") || ev.APIVersion != DefaultAPIVersion || ev.Type != "checkout.session.completed" {
		t.Errorf("event = %s %s %s", ev.ID, ev.APIVersion, ev.Type)
	}
	sess := sessionOf(t, ev)
	if sess.PaymentIntent == nil || !strings.HasPrefix(sess.PaymentIntent.ID, "pi_") {
		t.Fatalf("payment_intent = %+v, want pi_…", sess.PaymentIntent)
	}
	got := []any{sess.ID, sess.Status, sess.PaymentStatus, sess.ClientReferenceID, sess.Metadata["order_id"], sess.AmountTotal}
	want := []any{id, stripego.CheckoutSessionStatusComplete, stripego.CheckoutSessionPaymentStatusPaid, "order-1", "order-1", int64(3990)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event's session (-want +got):\n%s", diff)
	}
	if ev.Created != f.clock.Now().Unix() {
		t.Errorf("created = %d, want the stand-in's clock %d", ev.Created, f.clock.Now().Unix())
	}

	if _, err := webhook.ConstructEventWithOptions(f.hookPayload(0), f.hookSig(0), "whsec_other",
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true}); !errors.Is(err, webhook.ErrNoValidSignature) {
		t.Errorf("verify with another secret = %v, want ErrNoValidSignature", err)
	}

	again, err := f.api.CheckoutSessions.Get(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != stripego.CheckoutSessionStatusComplete || again.PaymentIntent.ID != sess.PaymentIntent.ID {
		t.Errorf("API after pay: %s %v", again.Status, again.PaymentIntent)
	}
	if status, _ := f.action(t, id, "pay", ""); status != http.StatusConflict {
		t.Errorf("second pay = %d, want 409", status)
	}
}

func (f *fixture) hookPayload(i int) []byte { p, _ := f.hook.received(); return p[i] }
func (f *fixture) hookSig(i int) string     { _, s := f.hook.received(); return s[i] }

func TestSessionActionsSendTheirEvents(t *testing.T) {
	type step struct {
		action, body string
		status       int
		event        string // "" when none is sent
		session      string // status/payment_status after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"expire an open session", []step{
			{"expire", "", 200, "checkout.session.expired", "expired/unpaid"},
			{"expire", "", 409, "", ""},
			{"pay", "", 409, "", ""},
		}},
		{"delayed payment succeeds", []step{
			{"async-succeed", "", 409, "", ""},
			{"pay", `{"delayed": true}`, 200, "checkout.session.completed", "complete/unpaid"},
			{"async-succeed", "", 200, "checkout.session.async_payment_succeeded", "complete/paid"},
			{"async-fail", "", 409, "", ""},
		}},
		{"delayed payment fails", []step{
			{"pay", `{"delayed": true}`, 200, "checkout.session.completed", "complete/unpaid"},
			{"async-fail", "", 200, "checkout.session.async_payment_failed", "complete/unpaid"},
			{"async-succeed", "", 409, "", ""},
		}},
		{"paid at once has nothing to settle", []step{
			{"pay", "", 200, "checkout.session.completed", "complete/paid"},
			{"async-fail", "", 409, "", ""},
			{"expire", "", 409, "", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.newSession(t)
			var wantEvents []string
			for _, st := range tt.steps {
				status, res := f.action(t, id, st.action, st.body)
				if status != st.status {
					t.Fatalf("%s = %d, want %d", st.action, status, st.status)
				}
				if st.event == "" {
					continue
				}
				wantEvents = append(wantEvents, st.event)
				if got := res.Session.Status + "/" + res.Session.PaymentStatus; got != st.session {
					t.Errorf("%s: session %s, want %s", st.action, got, st.session)
				}
			}
			var got []string
			for _, ev := range f.verified(t) {
				got = append(got, string(ev.Type))
			}
			if diff := cmp.Diff(wantEvents, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpireControlSendsTheEventStripeOwes(t *testing.T) {
	f := newFixture(t)
	byAPI := f.newSession(t)
	if _, err := f.api.CheckoutSessions.Expire(byAPI, nil); err != nil {
		t.Fatal(err)
	}
	byTime := f.newSession(t)
	f.clock.Add(36 * time.Minute) // past its 35 minutes

	for _, id := range []string{byAPI, byTime} {
		if status, _ := f.action(t, id, "expire", ""); status != http.StatusOK {
			t.Errorf("expire control for an expired session = %d, want 200 (sends the owed event)", status)
		}
		if status, _ := f.action(t, id, "expire", ""); status != http.StatusConflict {
			t.Errorf("second expire control = %d, want 409 (the event is sent once)", status)
		}
	}
	if n := len(f.verified(t)); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
}

func TestWebhookFailureIsReportedNotFatal(t *testing.T) {
	f := newFixture(t)
	f.hook.answer(http.StatusInternalServerError)
	id := f.newSession(t)
	status, res := f.action(t, id, "pay", "")
	if status != http.StatusOK || res.WebhookStatus != 500 || !strings.Contains(res.WebhookError, "500") {
		t.Errorf("pay with a failing webhook = %d, webhook %d %q", status, res.WebhookStatus, res.WebhookError)
	}

	down := New(Options{SecretKey: testKey, WebhookURL: "http://127.0.0.1:1/hook", WebhookSecret: testSecret, Now: f.clock.Now})
	downURL := serve(t, down)
	sess, err := newClient(downURL, testKey, 0).CheckoutSessions.New(sessionParams(f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	res, err = down.Pay(t.Context(), sess.ID, false)
	if err != nil || res.WebhookStatus != 0 || res.WebhookError == "" || res.Session.Status != statusComplete {
		t.Errorf("pay with the webhook down = %v, webhook %d %q, session %s", err, res.WebhookStatus, res.WebhookError, res.Session.Status)
	}
	if got := down.Events(); len(got) != 1 || got[0].WebhookError == "" {
		t.Errorf("events = %+v, want the failed delivery recorded", got)
	}
}

func TestConcurrentPaysPayOnce(t *testing.T) {
	f := newFixture(t)
	id := f.newSession(t)
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	for i := range statuses {
		wg.Go(func() { statuses[i], _ = f.action(t, id, "pay", "") })
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if diff := cmp.Diff(map[int]int{200: 1, 409: 9}, count); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := len(f.verified(t)); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
}

func TestFailControl(t *testing.T) {
	f := newFixture(t)
	for _, bad := range []string{`{"count": 0, "status": 500}`, `{"count": 1, "status": 200}`, `{"count": 1, "status": 500, "stauts": 1}`} {
		if resp, _ := control(t, f.srv.URL+"/_control/fail", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", bad, resp.StatusCode)
		}
	}
	control(t, f.srv.URL+"/_control/fail", `{"count": 2, "status": 429, "type": "invalid_request_error", "code": "lock_timeout", "message": "busy"}`)
	var got []stripeErr
	for range 3 {
		_, err := f.api.CheckoutSessions.New(sessionParams(f.clock.Now()))
		if err == nil {
			got = append(got, stripeErr{Status: 200})
			continue
		}
		got = append(got, errOf(t, err))
	}
	busy := stripeErr{Status: 429, Type: stripego.ErrorTypeInvalidRequest, Code: stripego.ErrorCodeLockTimeout, Msg: "busy"}
	if diff := cmp.Diff([]stripeErr{busy, busy, {Status: 200}}, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

func TestRequestsAndReset(t *testing.T) {
	f := newFixture(t)
	id := f.newSession(t)
	f.action(t, id, "pay", "")
	f.s.Fail(Failure{Count: 3, Status: 500})

	resp, err := http.Get(f.srv.URL + "/_control/requests")
	if err != nil {
		t.Fatal(err)
	}
	var reqs []Request
	_ = json.NewDecoder(resp.Body).Decode(&reqs)
	resp.Body.Close()
	if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/v1/checkout/sessions" || reqs[0].Params.Get("mode") != "payment" {
		t.Errorf("requests = %+v", reqs)
	}

	if resp, _ := control(t, f.srv.URL+"/_control/reset", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("reset = %d", resp.StatusCode)
	}
	if s, r, e := len(f.s.Sessions()), len(f.s.Requests()), len(f.s.Events()); s+r+e != 0 {
		t.Errorf("after reset: %d sessions, %d requests, %d events", s, r, e)
	}
	if _, err := f.api.CheckoutSessions.New(sessionParams(f.clock.Now())); err != nil {
		t.Errorf("create after reset: %v (reset must drop pending failures)", err)
	}
}

func TestRefunds(t *testing.T) {
	f := newFixture(t)
	id := f.newSession(t)
	_, res := f.action(t, id, "pay", "")
	pi := *res.Session.PaymentIntent

	refund := func(amount int64) (*stripego.Refund, error) {
		p := &stripego.RefundParams{PaymentIntent: stripego.String(pi), Reason: stripego.String("requested_by_customer")}
		if amount > 0 {
			p.Amount = stripego.Int64(amount)
		}
		p.AddMetadata("order_id", "order-1")
		return f.api.Refunds.New(p)
	}
	first, err := refund(1000)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := refund(0)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{first.Amount, first.PaymentIntent.ID, first.Status, first.Metadata["order_id"], rest.Amount, first.Currency}
	want := []any{int64(1000), pi, stripego.RefundStatusSucceeded, "order-1", int64(2990), stripego.CurrencyEUR}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refunds (-want +got):\n%s", diff)
	}
	if _, err := refund(0); errOf(t, err).Code != "charge_already_refunded" {
		t.Errorf("refund of a refunded payment: %v", err)
	}
	if n := len(f.s.Refunds()); n != 2 {
		t.Errorf("%d refunds recorded, want 2", n)
	}

	id2 := f.newSession(t)
	_, res = f.action(t, id2, "pay", "")
	p := &stripego.RefundParams{PaymentIntent: res.Session.PaymentIntent, Amount: stripego.Int64(5000)}
	if _, err := f.api.Refunds.New(p); errOf(t, err).Code != "amount_too_large" {
		t.Errorf("refund over the amount: %v", err)
	}
	p = &stripego.RefundParams{PaymentIntent: stripego.String("pi_nope")}
	if _, err := f.api.Refunds.New(p); errOf(t, err).Code != "resource_missing" {
		t.Errorf("refund of an unknown payment intent: %v", err)
	}
}

func TestPayPage(t *testing.T) {
	f := newFixture(t)
	id := f.newSession(t)
	resp, err := http.Get(f.srv.URL + "/pay/" + id)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"test payment page", "39.90 EUR", `action="/_control/sessions/` + id + `/pay"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}

	resp, err = http.PostForm(f.srv.URL+"/_control/sessions/"+id+"/pay", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "https://shop.example/thanks?session=" + id; !strings.Contains(string(page), want) {
		t.Errorf("result page lacks the success URL %q:\n%s", want, page)
	}
	if n := len(f.verified(t)); n != 1 {
		t.Errorf("%d events after paying from the page, want 1", n)
	}
}
