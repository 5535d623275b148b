package stripe

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	stripego "github.com/stripe/stripe-go/v79"
)

func TestCreateSessionWithStripeGo(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()

	got, err := f.api.CheckoutSessions.New(sessionParams(now))
	if err != nil {
		t.Fatalf("create: %v", err)
	}

	if !strings.HasPrefix(got.ID, "cs_test_") {
		t.Errorf("id = %q, want cs_test_…", got.ID)
	}
	want := stripego.CheckoutSession{
		ID:                 got.ID,
		Object:             "checkout.session",
		AmountSubtotal:     3990,
		AmountTotal:        3990,
		CancelURL:          "https://shop.example/cancelled",
		ClientReferenceID:  "order-1",
		Created:            now.Unix(),
		Currency:           "eur",
		ExpiresAt:          now.Add(35 * time.Minute).Unix(),
		Livemode:           false,
		Metadata:           map[string]string{"order_id": "order-1"},
		Mode:               stripego.CheckoutSessionModePayment,
		PaymentMethodTypes: []string{"card"},
		PaymentStatus:      stripego.CheckoutSessionPaymentStatusUnpaid,
		Status:             stripego.CheckoutSessionStatusOpen,
		SuccessURL:         "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}",
		UIMode:             stripego.CheckoutSessionUIModeHosted,
		URL:                f.srv.URL + "/pay/" + got.ID,
	}
	got.LastResponse = nil
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}

	// The wire shape stripe-go v79 uses, which the stand-in must keep reading.
	reqs := f.s.Requests()
	var keys []string
	for k := range reqs[0].Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	wantKeys := []string{
		"cancel_url", "client_reference_id", "expires_at",
		"line_items[0][price_data][currency]", "line_items[0][price_data][product_data][name]",
		"line_items[0][price_data][unit_amount]", "line_items[0][quantity]",
		"line_items[1][price_data][currency]", "line_items[1][price_data][product_data][name]",
		"line_items[1][price_data][unit_amount]", "line_items[1][quantity]",
		"metadata[order_id]", "mode", "payment_intent_data[metadata][order_id]", "success_url",
	}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("form keys stripe-go sent (-want +got):\n%s", diff)
	}
	if reqs[0].IdempotencyKey == "" {
		t.Errorf("stripe-go sent no Idempotency-Key; the stand-in's idempotency relies on it")
	}

	again, err := f.api.CheckoutSessions.Get(got.ID, nil)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if again.ID != got.ID || again.Status != stripego.CheckoutSessionStatusOpen || again.AmountTotal != 3990 {
		t.Errorf("get = %s %s %d, want the created open session", again.ID, again.Status, again.AmountTotal)
	}
}

func TestCreateSessionEnforcesExpiresAtWindow(t *testing.T) {
	tests := []struct {
		name    string
		after   time.Duration
		wantErr string
	}{
		{"29m59s", 29*time.Minute + 59*time.Second, "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."},
		{"30m", 30 * time.Minute, ""},
		{"24h", 24 * time.Hour, ""},
		{"24h1s", 24*time.Hour + time.Second, "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."},
		{"in the past", -time.Minute, "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."},
	}
	f := newFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sessionParams(f.clock.Now())
			p.ExpiresAt = stripego.Int64(f.clock.Now().Add(tt.after).Unix())
			_, err := f.api.CheckoutSessions.New(p)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				return
			}
			want := stripeErr{Status: 400, Type: stripego.ErrorTypeInvalidRequest, Param: "expires_at", Msg: tt.wantErr}
			if diff := cmp.Diff(want, errOf(t, err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("default is 24h", func(t *testing.T) {
		p := sessionParams(f.clock.Now())
		p.ExpiresAt = nil
		got, err := f.api.CheckoutSessions.New(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := f.clock.Now().Add(24 * time.Hour).Unix(); got.ExpiresAt != want {
			t.Errorf("expires_at = %d, want %d", got.ExpiresAt, want)
		}
	})
}

func TestCreateSessionRejectsBadParameters(t *testing.T) {
	f := newFixture(t)
	valid := func() url.Values {
		return url.Values{
			"mode":                                          {"payment"},
			"success_url":                                   {"https://shop.example/thanks"},
			"line_items[0][quantity]":                       {"1"},
			"line_items[0][price_data][currency]":           {"eur"},
			"line_items[0][price_data][unit_amount]":        {"1500"},
			"line_items[0][price_data][product_data][name]": {"T-shirt"},
			"expires_at":                                    {fmt.Sprint(f.clock.Now().Add(time.Hour).Unix())},
		}
	}
	edit := func(fn func(url.Values)) url.Values { v := valid(); fn(v); return v }
	invalid := func(param, msg string) stripeErr {
		return stripeErr{Status: 400, Type: stripego.ErrorTypeInvalidRequest, Param: param, Msg: msg}
	}
	missing := func(param string) stripeErr {
		e := invalid(param, "Missing required param: "+param+".")
		e.Code = "parameter_missing"
		return e
	}
	tests := []struct {
		name string
		form url.Values
		want stripeErr
	}{
		{"valid", valid(), stripeErr{Status: 200}},
		{"no mode", edit(func(v url.Values) { v.Del("mode") }), missing("mode")},
		{"subscription mode", edit(func(v url.Values) { v.Set("mode", "subscription") }),
			invalid("mode", `stand-in: mode "subscription" is not supported, only payment`)},
		{"no success_url", edit(func(v url.Values) { v.Del("success_url") }), missing("success_url")},
		{"no line items", edit(func(v url.Values) {
			for k := range v {
				if strings.HasPrefix(k, "line_items") {
					v.Del(k)
				}
			}
		}), missing("line_items")},
		{"no quantity", edit(func(v url.Values) { v.Del("line_items[0][quantity]") }), missing("line_items[0][quantity]")},
		{"zero quantity", edit(func(v url.Values) { v.Set("line_items[0][quantity]", "0") }),
			invalid("line_items[0][quantity]", "This value must be greater than or equal to 1.")},
		{"no currency", edit(func(v url.Values) { v.Del("line_items[0][price_data][currency]") }), missing("line_items[0][price_data][currency]")},
		{"no unit_amount", edit(func(v url.Values) { v.Del("line_items[0][price_data][unit_amount]") }), missing("line_items[0][price_data][unit_amount]")},
		{"no product name", edit(func(v url.Values) { v.Del("line_items[0][price_data][product_data][name]") }),
			missing("line_items[0][price_data][product_data][name]")},
		{"two currencies", edit(func(v url.Values) {
			v.Set("line_items[1][quantity]", "1")
			v.Set("line_items[1][price_data][currency]", "usd")
			v.Set("line_items[1][price_data][unit_amount]", "100")
			v.Set("line_items[1][price_data][product_data][name]", "Mug")
		}), invalid("line_items", "All line items must have the same currency.")},
		{"expires_at not an integer", edit(func(v url.Values) { v.Set("expires_at", "soon") }),
			stripeErr{Status: 400, Type: stripego.ErrorTypeInvalidRequest, Code: "parameter_invalid_integer", Param: "expires_at", Msg: "Invalid integer: soon"}},
		{"unknown parameter", edit(func(v url.Values) { v.Set("colour", "blue") }),
			stripeErr{Status: 400, Type: stripego.ErrorTypeInvalidRequest, Code: "parameter_unknown", Param: "colour", Msg: "Received unknown parameter: colour"}},
		{"unknown nested parameter", edit(func(v url.Values) { v.Set("line_items[0][price_data][colour]", "blue") }),
			stripeErr{Status: 400, Type: stripego.ErrorTypeInvalidRequest, Code: "parameter_unknown", Param: "line_items[0][price_data][colour]",
				Msg: "Received unknown parameter: line_items[0][price_data][colour]"}},
		{"known parameter the stand-in ignores", edit(func(v url.Values) { v.Set("locale", "fr"); v.Add("expand[]", "line_items") }), stripeErr{Status: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, f.srv.URL+"/v1/checkout/sessions", testKey, "", tt.form)
			got := rawErr(resp, body)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpireSession(t *testing.T) {
	f := newFixture(t)
	sess, err := f.api.CheckoutSessions.New(sessionParams(f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}

	expired, err := f.api.CheckoutSessions.Expire(sess.ID, nil)
	if err != nil {
		t.Fatalf("expire: %v", err)
	}
	if expired.Status != stripego.CheckoutSessionStatusExpired || expired.URL != "" {
		t.Errorf("after expire: status %q url %q, want expired and no url", expired.Status, expired.URL)
	}

	_, err = f.api.CheckoutSessions.Expire(sess.ID, nil)
	want := stripeErr{Status: 400, Type: stripego.ErrorTypeInvalidRequest,
		Msg: "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of `expired`."}
	if diff := cmp.Diff(want, errOf(t, err)); diff != "" {
		t.Errorf("second expire (-want +got):\n%s", diff)
	}

	_, err = f.api.CheckoutSessions.Expire("cs_test_nope", nil)
	want = stripeErr{Status: 404, Type: stripego.ErrorTypeInvalidRequest, Code: "resource_missing", Param: "session",
		Msg: "No such checkout.session: 'cs_test_nope'"}
	if diff := cmp.Diff(want, errOf(t, err)); diff != "" {
		t.Errorf("unknown session (-want +got):\n%s", diff)
	}
}

func TestSessionExpiresWhenItsTimeComes(t *testing.T) {
	f := newFixture(t)
	sess, err := f.api.CheckoutSessions.New(sessionParams(f.clock.Now())) // expires in 35 min
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(34 * time.Minute)
	if got, _ := f.api.CheckoutSessions.Get(sess.ID, nil); got.Status != stripego.CheckoutSessionStatusOpen {
		t.Fatalf("status after 34 min = %q, want open", got.Status)
	}
	f.clock.Add(time.Minute)
	if got, _ := f.api.CheckoutSessions.Get(sess.ID, nil); got.Status != stripego.CheckoutSessionStatusExpired {
		t.Errorf("status at expires_at = %q, want expired", got.Status)
	}
	if resp, body := control(t, f.srv.URL+"/_control/sessions/"+sess.ID+"/pay", ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("pay after expiry = %d %v, want 409: nobody can pay an expired session", resp.StatusCode, body)
	}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		key  string
		want stripeErr
	}{
		{"no key", "", stripeErr{Status: 401, Type: stripego.ErrorTypeInvalidRequest,
			Msg: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth " +
				"(e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, " +
				"or we can help at https://support.stripe.com/."}},
		{"wrong key", "sk_test_wrongwrongwrong1234", stripeErr{Status: 401, Type: stripego.ErrorTypeInvalidRequest, Code: "api_key_invalid",
			Msg: "Invalid API Key provided: sk_test_***************1234"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, f.srv.URL+"/v1/checkout/sessions", tt.key, "", url.Values{"mode": {"payment"}})
			if diff := cmp.Diff(tt.want, rawErr(resp, body)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("stripe-go with a wrong key", func(t *testing.T) {
		_, err := newClient(f.srv.URL, "sk_test_other", 0).CheckoutSessions.New(sessionParams(f.clock.Now()))
		if got := errOf(t, err); got.Status != 401 {
			t.Errorf("status = %d, want 401", got.Status)
		}
	})

	t.Run("any test key when none is configured", func(t *testing.T) {
		srv := serve(t, New(Options{Now: f.clock.Now}))
		if _, err := newClient(srv, "sk_test_anything", 0).CheckoutSessions.New(sessionParams(f.clock.Now())); err != nil {
			t.Errorf("sk_test_ key: %v", err)
		}
		_, err := newClient(srv, "sk_live_anything", 0).CheckoutSessions.New(sessionParams(f.clock.Now()))
		if got := errOf(t, err); got.Status != 401 {
			t.Errorf("sk_live_ key: status %d, want 401", got.Status)
		}
	})
}
