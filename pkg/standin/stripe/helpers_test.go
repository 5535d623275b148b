package stripe

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	stripego "github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/client"
)

const (
	testKey    = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
	testSecret = "whsec_test_secret"
)

// clock is the test's hand on the stand-in's time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hook is a webhook endpoint that records what it receives.
type hook struct {
	mu       sync.Mutex
	payloads [][]byte
	sigs     []string
	status   int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.payloads = append(h.payloads, b)
	h.sigs = append(h.sigs, r.Header.Get("Stripe-Signature"))
	if h.status != 0 {
		w.WriteHeader(h.status)
	}
}

// answer makes the hook answer status from now on.
func (h *hook) answer(status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status = status
}

func (h *hook) received() ([][]byte, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte{}, h.payloads...), append([]string{}, h.sigs...)
}

type fixture struct {
	s     *Server
	srv   *httptest.Server
	clock *clock
	hook  *hook
	api   *client.API
}

// newFixture starts the stand-in behind a real listener, with a webhook
// endpoint and a stripe-go client that does not retry (tests that want
// stripe-go's retries build their own client).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureAt(t, newClock())
}

// newFixtureAt is newFixture on a clock the test already holds, such as the
// clock of the fixture a restarted one takes over from.
func newFixtureAt(t *testing.T, c *clock) *fixture {
	t.Helper()
	f := &fixture{clock: c, hook: &hook{}}
	hookSrv := httptest.NewServer(f.hook)
	t.Cleanup(hookSrv.Close)
	f.s = New(Options{SecretKey: testKey, WebhookURL: hookSrv.URL, WebhookSecret: testSecret, Now: f.clock.Now})
	f.srv = httptest.NewServer(f.s)
	t.Cleanup(f.srv.Close)
	f.api = newClient(f.srv.URL, testKey, 0)
	return f
}

// newClient is stripe-go pointed at the stand-in, as the shop will build it
// from STRIPE_API_BASE_URL.
func newClient(baseURL, key string, retries int64) *client.API {
	backend := stripego.GetBackendWithConfig(stripego.APIBackend, &stripego.BackendConfig{
		URL:               stripego.String(baseURL),
		MaxNetworkRetries: stripego.Int64(retries),
		LeveledLogger:     &stripego.LeveledLogger{Level: stripego.LevelNull},
	})
	return client.New(key, &stripego.Backends{API: backend, Connect: backend, Uploads: backend})
}

// sessionParams is a session as the shop creates one.
func sessionParams(now time.Time) *stripego.CheckoutSessionParams {
	p := &stripego.CheckoutSessionParams{
		Mode: stripego.String(string(stripego.CheckoutSessionModePayment)),
		LineItems: []*stripego.CheckoutSessionLineItemParams{
			{
				PriceData: &stripego.CheckoutSessionLineItemPriceDataParams{
					Currency:    stripego.String("eur"),
					UnitAmount:  stripego.Int64(1500),
					ProductData: &stripego.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripego.String("T-shirt M")},
				},
				Quantity: stripego.Int64(2),
			},
			{
				PriceData: &stripego.CheckoutSessionLineItemPriceDataParams{
					Currency:    stripego.String("eur"),
					UnitAmount:  stripego.Int64(990),
					ProductData: &stripego.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripego.String("Mug")},
				},
				Quantity: stripego.Int64(1),
			},
		},
		SuccessURL:        stripego.String("https://shop.example/thanks?session={CHECKOUT_SESSION_ID}"),
		CancelURL:         stripego.String("https://shop.example/cancelled"),
		ClientReferenceID: stripego.String("order-1"),
		ExpiresAt:         stripego.Int64(now.Add(35 * time.Minute).Unix()),
		PaymentIntentData: &stripego.CheckoutSessionPaymentIntentDataParams{
			Metadata: map[string]string{"order_id": "order-1"},
		},
	}
	p.AddMetadata("order_id", "order-1")
	return p
}

// post sends a raw request and decodes the JSON answer; key "" sends no
// Authorization.
func post(t *testing.T, rawURL, key, idemKey string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	return send(t, req)
}

// control posts a JSON body to the control API.
func control(t *testing.T, rawURL, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
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
	return resp, out
}

// stripeErr is the part of a stripe-go error the tests compare.
type stripeErr struct {
	Status int
	Type   stripego.ErrorType
	Code   stripego.ErrorCode
	Param  string
	Msg    string
}

func errOf(t *testing.T, err error) stripeErr {
	t.Helper()
	se, ok := err.(*stripego.Error)
	if !ok {
		t.Fatalf("error = %v (%T), want a *stripe.Error", err, err)
	}
	return stripeErr{Status: se.HTTPStatusCode, Type: se.Type, Code: se.Code, Param: se.Param, Msg: se.Msg}
}

// rawErr picks the same fields from a raw answer.
func rawErr(resp *http.Response, body map[string]any) stripeErr {
	e, _ := body["error"].(map[string]any)
	str := func(k string) string { s, _ := e[k].(string); return s }
	return stripeErr{
		Status: resp.StatusCode, Type: stripego.ErrorType(str("type")), Code: stripego.ErrorCode(str("code")),
		Param: str("param"), Msg: str("message"),
	}
}

// serve starts h behind a listener for the test and returns its URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
