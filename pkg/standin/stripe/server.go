// Package stripe is a local stand-in for the part of Stripe's API the shop
// uses: Checkout Sessions, refunds and the webhook events that follow them.
//
// Tests and the dev stack cannot reach Stripe, so they point
// STRIPE_API_BASE_URL at this server and use stripe-go unchanged. The
// stand-in reads requests form-encoded exactly as stripe-go v79 sends them,
// answers with Stripe's object and error shapes, and enforces the rules the
// shop's correctness leans on: 30 min ≤ expires_at − now ≤ 24 h, only `open`
// sessions expire, and an Idempotency-Key reused with other parameters is an
// error while a plain retry replays the first answer.
//
// Provider endpoints (Bearer secret key):
//
//	POST /v1/checkout/sessions
//	GET  /v1/checkout/sessions/{id}
//	POST /v1/checkout/sessions/{id}/expire
//	POST /v1/refunds
//
// Control API (tests, dev stack, storm; no key):
//
//	GET  /_control/sessions                    sessions, oldest first
//	POST /_control/sessions/{id}/pay           {"delayed": true} for a delayed method
//	POST /_control/sessions/{id}/expire
//	POST /_control/sessions/{id}/async-succeed
//	POST /_control/sessions/{id}/async-fail
//	POST /_control/fail                        {"count","status","type","code","message"}
//	GET  /_control/requests                    API calls received, oldest first
//	GET  /_control/refunds
//	GET  /_control/events                      events sent and how the webhook answered
//	POST /_control/reset
//	GET  /pay/{id}                             a page a human can pay from
//
// Session actions send the signed event to Options.WebhookURL and answer
// with it and the webhook's status; a webhook that is down is reported, not
// retried, and does not fail the control call.
//
// Shapes checked against: stripe-go v79.12.0 itself (the form encoding it
// sends, the params structs whose form tags are the accepted parameters, the
// error decoding, webhook signing); docs.stripe.com/api/idempotent_requests
// and docs.stripe.com/idempotency (what is saved, 24 hours, mismatch is an
// error); docs.stripe.com/api/checkout/sessions/create (expires_at window);
// error messages as reported in public issues (stripe-go#1550, Sylius
// PayumStripePlugin#70 for the expire message, alexmorrisnz/moodle-paygw_stripe#72
// for the 24-hour message). stripe-mock v0.203.0 accepts the same stripe-go
// requests (create, retrieve, expire, refund), but its spec is 2026-08-26,
// so it checks shapes, not the 2024-06-20 rules.
package stripe

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// DefaultAPIVersion is the version events are stamped with when
// Options.APIVersion is empty: the one stripe-go v79 pins.
const DefaultAPIVersion = "2024-06-20"

// Options configure a Server.
type Options struct {
	// SecretKey is the only API key accepted. When empty, any test-mode
	// secret key (sk_test_…) is accepted.
	SecretKey string
	// WebhookURL receives the events control actions cause (the shop's
	// payment-callback). When empty, events are built and reported but not
	// sent.
	WebhookURL string
	// WebhookSecret (whsec_…) signs events as Stripe does.
	WebhookSecret string
	// APIVersion stamps events; DefaultAPIVersion when empty.
	APIVersion string
	// Now is Stripe's clock: creation times, expires_at bounds, expiry.
	// time.Now when nil. Tests move it instead of sleeping.
	Now func() time.Time
	// BaseURL is where customers reach this server, used for a session's
	// url. When empty it is taken from each request's Host.
	BaseURL string
}

// Server is the stand-in. It is an http.Handler, so tests mount it with
// httptest.NewServer and the dev server mounts it in-process. It is safe for
// concurrent use.
type Server struct {
	opts Options
	mux  *http.ServeMux

	// mu guards everything below. API calls run whole under it: the state
	// is small and in memory, and it makes idempotency exact. It is never
	// held across a webhook delivery.
	mu       sync.Mutex
	sessions map[string]*Session
	order    []string // session ids, oldest first
	intents  map[string]*paymentIntent
	refunds  []Refund
	idem     map[string]*idemEntry
	failures []Failure
	requests []Request
	events   []Delivery
}

// New builds a Server.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.APIVersion == "" {
		opts.APIVersion = DefaultAPIVersion
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.clear()
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.Handle("POST /v1/checkout/sessions", s.api(s.createSession))
	s.mux.Handle("GET /v1/checkout/sessions/{id}", s.api(s.retrieveSession))
	s.mux.Handle("POST /v1/checkout/sessions/{id}/expire", s.api(s.expireSession))
	s.mux.Handle("POST /v1/refunds", s.api(s.createRefund))
	s.mux.Handle("/v1/", s.api(unrecognized))

	s.mux.HandleFunc("GET /_control/sessions", s.handleControlSessions)
	s.mux.HandleFunc("POST /_control/sessions/{id}/{action}", s.handleControlSessionAction)
	s.mux.HandleFunc("POST /_control/fail", s.handleControlFail)
	s.mux.HandleFunc("GET /_control/requests", s.handleControlRequests)
	s.mux.HandleFunc("GET /_control/refunds", s.handleControlRefunds)
	s.mux.HandleFunc("GET /_control/events", s.handleControlEvents)
	s.mux.HandleFunc("POST /_control/reset", s.handleControlReset)
	s.mux.HandleFunc("GET /pay/{id}", s.handlePayPage)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Reset forgets every session, refund, request, event, idempotency key and
// pending failure.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
}

func (s *Server) clear() {
	s.sessions = map[string]*Session{}
	s.order = nil
	s.intents = map[string]*paymentIntent{}
	s.refunds = nil
	s.idem = map[string]*idemEntry{}
	s.failures = nil
	s.requests = nil
	s.events = nil
}

// Sessions returns every session as the API would show it now, oldest first.
func (s *Server) Sessions() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Session{}
	for _, id := range s.order {
		out = append(out, s.view(s.sessions[id]))
	}
	return out
}

// Requests returns the API calls received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request{}, s.requests...)
}

// Refunds returns the refunds created, oldest first.
func (s *Server) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refund{}, s.refunds...)
}

// Events returns the events sent and how the webhook answered, oldest first.
func (s *Server) Events() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery{}, s.events...)
}

// newID returns prefix followed by n random base-62 characters, the shape of
// Stripe's ids (cs_test_a1…, pi_…, evt_…).
func newID(prefix string, n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
