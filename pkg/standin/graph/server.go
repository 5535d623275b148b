// Package graph is a local stand-in for the WhatsApp Cloud API (Meta's Graph
// API) that the shop sends messages through.
//
// Tests and the dev stack cannot reach Meta, so they point
// WHATSAPP_API_BASE_URL at this server instead. The code under test does not
// know the difference: the stand-in answers the send endpoint with Meta's
// shapes (success and error) and checks requests the way Meta does for the
// message types the shop sends. Beside it, a small control API lets tests and
// the dev stack read what was sent and make the next calls fail:
//
//	POST /{version}/{phone_number_id}/messages   the provider endpoint
//	GET  /_control/messages[?to=]                recorded sends, oldest first
//	POST /_control/fail                          fail the next N sends
//	POST /_control/reset                         forget sends and failures
//
// Shapes checked against Meta's documentation (stored copies):
//   - send response: developers.facebook.com/documentation/business-messaging/
//     whatsapp/reference/whatsapp-business-phone-number/message-api, and the
//     example in prismatic.io/docs/example-payloads/whatsapp/actions/sendMessage.json
//   - error object (message, type, code, error_data.details, error_subcode,
//     fbtrace_id): developers.facebook.com/documentation/business-messaging/
//     whatsapp/support/error-codes and .../docs/graph-api/guides/error-handling
//   - limits (list: ≤ 10 sections, ≤ 10 rows in all; button: ≤ 3; product_list:
//     ≤ 30 products in ≤ 10 sections): developers.facebook.com/documentation/
//     business-messaging/whatsapp/messages/interactive-list-messages and
//     developers.facebook.com/docs/whatsapp/guides/interactive-messages
package graph

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// AccessToken is the only bearer token the server accepts. When empty,
	// any non-empty token is accepted (a dev stack without secrets).
	AccessToken string
	// PhoneNumberID is the business phone number the token may send from;
	// sends from any other id fail as Meta fails them. When empty, any id is
	// accepted.
	PhoneNumberID string
	// Now is the clock that stamps recorded messages; time.Now when nil.
	Now func() time.Time
}

// Server is the stand-in. It is an http.Handler, so tests mount it with
// httptest.NewServer and the dev server mounts it in-process. It is safe for
// concurrent use.
type Server struct {
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	messages []Message
	failures []Failure // pending injected failures, oldest first
}

// Message is one accepted send, as the control API reports it.
type Message struct {
	ID   string          `json:"id"`   // the wamid the send was answered with
	To   string          `json:"to"`   // the `to` field as sent, or `recipient` (a BSUID) without one
	Type string          `json:"type"` // text, interactive or template
	Body json.RawMessage `json:"body"` // the request body exactly as received
	Time time.Time       `json:"time"`
}

// New builds a Server.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST /{version}/{phone_number_id}/messages", s.handleSend)
	s.mux.HandleFunc("GET /_control/messages", s.handleControlMessages)
	s.mux.HandleFunc("POST /_control/fail", s.handleControlFail)
	s.mux.HandleFunc("POST /_control/reset", s.handleControlReset)
	s.mux.HandleFunc("/", s.handleUnknown)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Messages returns the recorded sends, oldest first, optionally only those to
// the given recipient. In-process users (the dev server, tests that hold the
// Server) read them without going through HTTP.
func (s *Server) Messages(to string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Message{}
	for _, m := range s.messages {
		if to == "" || m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// Fail queues f: the next f.Count sends answer with f's status and error.
func (s *Server) Fail(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Count > 0 {
		s.failures = append(s.failures, f)
	}
}

// Reset forgets recorded sends and pending failures.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
	s.failures = nil
}

// nextFailure consumes one pending injected failure, if any.
func (s *Server) nextFailure() (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return Failure{}, false
	}
	f := s.failures[0]
	s.failures[0].Count--
	if s.failures[0].Count <= 0 {
		s.failures = s.failures[1:]
	}
	return f, true
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
}

// handleUnknown answers paths Meta would not know with the error Graph gives
// for them, so a wrong base URL or version shows up as a Graph error.
func (s *Server) handleUnknown(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusBadRequest, Error{
		Message: "Unknown path components: " + r.URL.Path,
		Type:    "OAuthException",
		Code:    2500,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// The control API is for tests, the dev stack and the storm, never for the
// code under test. It takes no token: the stand-in only ever listens locally.

// handleControlMessages is GET /_control/messages[?to=].
func (s *Server) handleControlMessages(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Messages(r.URL.Query().Get("to")))
}

// handleControlFail is POST /_control/fail with a Failure as JSON.
func (s *Server) handleControlFail(w http.ResponseWriter, r *http.Request) {
	var f Failure
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields() // a misspelt field would silently fail nothing
	if err := dec.Decode(&f); err != nil {
		controlError(w, http.StatusBadRequest, "decode failure: "+err.Error())
		return
	}
	switch {
	case f.Count < 1:
		controlError(w, http.StatusBadRequest, "count must be at least 1")
		return
	case f.Status < 400 || f.Status > 599:
		controlError(w, http.StatusBadRequest, "status must be a 4xx or 5xx HTTP status")
		return
	case f.Code == 0:
		controlError(w, http.StatusBadRequest, "code is required (for example 130429, 131056, 131000)")
		return
	}
	s.Fail(f)
	writeJSON(w, http.StatusOK, f)
}

// handleControlReset is POST /_control/reset.
func (s *Server) handleControlReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// controlError answers a bad control call. It is deliberately not Meta's
// shape, so nobody mistakes a broken test setup for a provider error.
func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"control_error": msg})
}
