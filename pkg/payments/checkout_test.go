package payments

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v79"
	"golang.org/x/time/rate"

	"github.com/wa-shop/shop/pkg/config"
	standin "github.com/wa-shop/shop/pkg/standin/stripe"
)

const testKey = "sk_test_payments_4eC39HqLyjWDarjtT1zdp7dc"

// clock is Stripe's and our time: tests move it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newStandin starts the Stripe stand-in and a Checkout pointed at it.
// Unless a test adds options, stripe-go does not retry, so each injected
// failure reaches the caller.
func newStandin(t *testing.T, opts ...Option) (*Checkout, *standin.Server, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)}
	srv := standin.New(standin.Options{SecretKey: testKey, Now: clk.Now})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return newClient(t, hs.URL, testKey, append([]Option{WithClock(clk.Now), WithMaxNetworkRetries(0)}, opts...)...), srv, clk
}

func newClient(t *testing.T, baseURL, key string, opts ...Option) *Checkout {
	t.Helper()
	c, err := NewCheckout(config.StripeAPI{Secret: key, BaseURL: baseURL, RateLimit: 1000,
		SuccessURL: "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}", CancelURL: "https://wa.me/"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func request(now time.Time) SessionRequest {
	return SessionRequest{
		OrderID:   uuid.MustParse("0f8fad5b-d9cb-469f-a165-70867728950e"),
		Lines:     []Line{{Name: "T-shirt M", UnitAmount: 1500, Quantity: 2}, {Name: "Mug", UnitAmount: 990, Quantity: 1}},
		Currency:  "EUR",
		ExpiresAt: now.Add(31 * time.Minute),
	}
}

func TestCreateSession(t *testing.T) {
	c, srv, clk := newStandin(t)
	req := request(clk.Now())
	req.CustomerRef = "cust-42"
	got, err := c.CreateSession(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.URL == "" || !got.ExpiresAt.Equal(req.ExpiresAt) || got.Status != StatusOpen || got.PaymentStatus != "unpaid" {
		t.Errorf("CreateSession() = %+v", got)
	}
	sent := srv.Requests()[0]
	order := req.OrderID.String()
	want := map[string]string{
		"idempotency key": "checkout-session-" + order, "mode": "payment", "client_reference_id": order,
		"metadata[order_id]": order, "payment_intent_data[metadata][order_id]": order,
		"metadata[customer_ref]": "cust-42", "line_items[0][price_data][currency]": "eur",
		"line_items[1][price_data][product_data][name]": "Mug", "line_items[1][price_data][unit_amount]": "990",
		"line_items[0][quantity]": "2", "success_url": "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}",
		"payment_method_types[0]": "", // left to the Dashboard
	}
	gotParams := map[string]string{"idempotency key": sent.IdempotencyKey}
	for k := range want {
		if k != "idempotency key" {
			gotParams[k] = sent.Params.Get(k)
		}
	}
	if diff := cmp.Diff(want, gotParams); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

// A retry sends the identical request under the same key and gets the same
// session, even when it comes after the 30-minute lower bound has passed.
func TestCreateSessionRetryGetsSameSession(t *testing.T) {
	c, srv, clk := newStandin(t)
	req := request(clk.Now())
	first, err := c.CreateSession(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(5 * time.Minute)
	again, err := c.CreateSession(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || len(srv.Sessions()) != 1 || !srv.Requests()[1].Replayed {
		t.Errorf("retry gave %s (first %s), stand-in holds %d sessions", again.ID, first.ID, len(srv.Sessions()))
	}
}

func TestCreateSessionExpiresAtOutOfBounds(t *testing.T) {
	for _, tt := range []struct {
		name  string
		life  time.Duration
		calls int // Stripe is asked only when the answer may be a replay
	}{
		{"under 30 minutes, refused by stripe", 29 * time.Minute, 1},
		{"over 24 hours", 24*time.Hour + time.Minute, 0},
		{"in the past", -time.Minute, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, srv, clk := newStandin(t)
			req := request(clk.Now())
			req.ExpiresAt = clk.Now().Add(tt.life)
			_, err := c.CreateSession(context.Background(), req)
			if !errors.Is(err, ErrExpiresAt) || IsTransient(err) || len(srv.Requests()) != tt.calls {
				t.Errorf("err = %v (transient %v) after %d calls; want permanent ErrExpiresAt after %d",
					err, IsTransient(err), len(srv.Requests()), tt.calls)
			}
		})
	}
}

func TestErrorClassification(t *testing.T) {
	for _, tt := range []struct {
		fail standin.Failure
		want bool
	}{
		{standin.Failure{Status: 500}, true},
		{standin.Failure{Status: 503}, true},
		{standin.Failure{Status: 429}, true}, // rate_limit: stripe-go itself does not retry it
		{standin.Failure{Status: 429, Code: "lock_timeout"}, true},
		{standin.Failure{Status: 409, Type: "idempotency_error", Message: "There is currently another in-progress request using this Idempotent Key"}, true},
		{standin.Failure{Status: 400, Code: "parameter_invalid_integer"}, false},
		{standin.Failure{Status: 402, Type: "card_error"}, false},
		{standin.Failure{Status: 404, Code: "resource_missing"}, false},
	} {
		t.Run(tt.fail.Type+tt.fail.Code+http.StatusText(tt.fail.Status), func(t *testing.T) {
			c, srv, clk := newStandin(t)
			tt.fail.Count = 1
			srv.Fail(tt.fail)
			_, err := c.CreateSession(context.Background(), request(clk.Now()))
			var se *stripe.Error
			if !errors.As(err, &se) || se.HTTPStatusCode != tt.fail.Status {
				t.Fatalf("err = %v, want a *stripe.Error with status %d", err, tt.fail.Status)
			}
			if IsTransient(err) != tt.want || errors.Is(err, ErrTransient) != tt.want || IsTransient(se) != tt.want {
				t.Errorf("IsTransient(%v) = %v, want %v", err, IsTransient(err), tt.want)
			}
		})
	}
}

// With the default retries, one 500 is absorbed by stripe-go, which resends
// the same request under the same idempotency key.
func TestNetworkRetryRecoversFromOne500(t *testing.T) {
	c, srv, clk := newStandin(t, WithMaxNetworkRetries(maxNetworkRetries))
	srv.Fail(standin.Failure{Count: 1, Status: 500})
	if _, err := c.CreateSession(context.Background(), request(clk.Now())); err != nil {
		t.Fatalf("CreateSession() = %v, want success after a retry", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Status != 500 || reqs[1].Status != 200 || reqs[0].IdempotencyKey != reqs[1].IdempotencyKey {
		t.Errorf("requests = %+v, want a 500 then a 200 under one key", reqs)
	}
}

// A 5xx that Stripe replays under an idempotency key we send again will be
// replayed again; expiring sends a new key each call.
func TestReplayed500(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(500)
		_, _ = w.Write([]byte(`{"error":{"type":"api_error","message":"An unknown error occurred"}}`))
	}))
	defer hs.Close()
	c := newClient(t, hs.URL, testKey, WithMaxNetworkRetries(0))
	_, err := c.CreateSession(context.Background(), request(time.Now()))
	if err == nil || IsTransient(err) || !strings.Contains(err.Error(), "replayed") {
		t.Errorf("CreateSession() = %v (transient %v), want a permanent replayed 500", err, IsTransient(err))
	}
	if _, err := c.ExpireSession(context.Background(), "cs_test_1"); !IsTransient(err) {
		t.Errorf("ExpireSession() = %v, want transient", err)
	}
}

func TestExpireSession(t *testing.T) {
	c, srv, clk := newStandin(t)
	ctx := context.Background()
	paidReq := request(clk.Now())
	paidReq.OrderID = uuid.New()
	open, err := c.CreateSession(ctx, request(clk.Now()))
	paid, err2 := c.CreateSession(ctx, paidReq)
	if err := errors.Join(err, err2); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pay(ctx, paid.ID, false); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, id, want string }{
		{"open session expires", open.ID, StatusExpired},
		{"expired session stays expired", open.ID, StatusExpired},
		{"paid session stays complete", paid.ID, StatusComplete},
	} {
		got, err := c.ExpireSession(ctx, tt.id)
		if err != nil || got.Status != tt.want {
			t.Errorf("%s: ExpireSession() = %q, %v; want %q", tt.name, got.Status, err, tt.want)
		}
	}
	if _, err := c.ExpireSession(ctx, "cs_test_unknown"); err == nil || IsTransient(err) {
		t.Errorf("ExpireSession(unknown) = %v, want a permanent error", err)
	}
}

func TestRefund(t *testing.T) {
	c, srv, clk := newStandin(t)
	ctx := context.Background()
	s, err := c.CreateSession(ctx, request(clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pay(ctx, s.ID, false); err != nil {
		t.Fatal(err)
	}
	s, err = c.GetSession(ctx, s.ID)
	if err != nil || s.PaymentIntentID == "" {
		t.Fatalf("GetSession() = %+v, %v; want a payment intent", s, err)
	}
	md := map[string]string{"order_id": "o1"}
	partial, err := c.Refund(ctx, s.PaymentIntentID, 1000, "refund-o1-part", md)
	again, err2 := c.Refund(ctx, s.PaymentIntentID, 1000, "refund-o1-part", md)
	rest, err3 := c.Refund(ctx, s.PaymentIntentID, 0, "refund-o1-rest", md)
	if err := errors.Join(err, err2, err3); err != nil || partial != again || rest == partial {
		t.Fatalf("refunds %q, %q, %q: %v; want a retry to return the first", partial, again, rest, err)
	}
	type refund struct {
		Amount   int64
		Metadata map[string]string
	}
	var got []refund
	for _, r := range srv.Refunds() {
		got = append(got, refund{r.Amount, r.Metadata})
	}
	if diff := cmp.Diff([]refund{{1000, md}, {3990 - 1000, md}}, got); diff != "" {
		t.Errorf("refunds (-want +got):\n%s", diff)
	}
	if _, err := c.Refund(ctx, s.PaymentIntentID, 0, "", nil); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("Refund without a key = %v, want ErrInvalidRequest", err)
	}
}

// The limiter refuses at once when the next token comes after the deadline.
func TestRateLimiterHonoursDeadline(t *testing.T) {
	c, srv, clk := newStandin(t, WithLimiter(rate.NewLimiter(rate.Every(time.Hour), 1)))
	s, err := c.CreateSession(context.Background(), request(clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = c.GetSession(ctx, s.ID)
	if !IsTransient(err) || !strings.Contains(err.Error(), "would exceed context deadline") || len(srv.Requests()) != 1 {
		t.Errorf("GetSession() = %v after %d calls, want a transient limiter error and no call", err, len(srv.Requests()))
	}
}

func TestErrorsNeverShowTheSecret(t *testing.T) {
	srv := httptest.NewServer(standin.New(standin.Options{SecretKey: testKey}))
	defer srv.Close()
	wrong := "sk_test_wrongwrongwrongwrong9876"
	_, err := newClient(t, srv.URL, wrong).CreateSession(context.Background(), request(time.Now()))
	if err == nil || IsTransient(err) || strings.Contains(err.Error(), wrong) {
		t.Errorf("err = %v, want a permanent 401 that does not show the key", err)
	}
}
