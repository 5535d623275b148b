package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// stateVersion is the version of the document Save writes and Load reads.
// Bump it when the document changes in a way an older Load would misread.
const stateVersion = 1

// ErrStateVersion is Load's answer to a document of another version.
var ErrStateVersion = errors.New("unsupported stripe stand-in state version")

// state is the document Save writes: what a restarted stand-in needs to go
// on serving the sessions the shop already holds (pay, expire, refund, replay
// a retried create). Pending failures, requests and events are left out:
// they are a test's controls and observations, not Stripe's state.
type state struct {
	Version        int                  `json:"version"`
	Sessions       []savedSession       `json:"sessions"`        // oldest first
	PaymentIntents []savedIntent        `json:"payment_intents"` // by id
	Refunds        []Refund             `json:"refunds"`         // oldest first
	Idempotency    map[string]savedIdem `json:"idempotency"`     // by Idempotency-Key
}

// savedSession is a Session with the fields the API does not show.
type savedSession struct {
	Session
	LineItems        []savedLineItem   `json:"line_items"`
	PayURL           string            `json:"pay_url"`
	PIMetadata       map[string]string `json:"payment_intent_metadata"`
	OwesExpiredEvent bool              `json:"owes_expired_event"`
}

// savedLineItem and savedIntent only add JSON names to lineItem and
// paymentIntent. They are converted to and from them, so a field added there
// and not here fails to compile instead of being silently forgotten.
type savedLineItem struct {
	Name       string `json:"name"`
	UnitAmount int64  `json:"unit_amount"`
	Quantity   int64  `json:"quantity"`
}

type savedIntent struct {
	ID       string            `json:"id"`
	Session  string            `json:"session"`
	Amount   int64             `json:"amount"`
	Currency string            `json:"currency"`
	Charge   string            `json:"charge"`
	Status   string            `json:"status"`
	Refunded int64             `json:"refunded"`
	Metadata map[string]string `json:"metadata"`
}

// savedIdem is an idemEntry. The saved answer's body is a string, not
// []byte (base64) or json.RawMessage (re-indented): a replay after a restart
// must be byte for byte the first answer, and the file stays readable.
type savedIdem struct {
	Method    string        `json:"method"`
	Path      string        `json:"path"`
	Params    string        `json:"params"`
	Response  savedResponse `json:"response"`
	RequestID string        `json:"request_id"`
	At        time.Time     `json:"at"`
}

type savedResponse struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
	Keep   bool   `json:"keep"`
}

// Save writes the server's state as a JSON document Load reads back, so the
// dev server can keep its sessions across restarts.
func (s *Server) Save(w io.Writer) error {
	// Encoded under the lock for a consistent snapshot; written without it,
	// so a slow writer does not stall the API.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keeps the saved parameters' & readable
	s.mu.Lock()
	err := enc.Encode(s.stateLocked())
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode stripe stand-in state: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write stripe stand-in state: %w", err)
	}
	return nil
}

func (s *Server) stateLocked() state {
	doc := state{
		Version:        stateVersion,
		Sessions:       []savedSession{},
		PaymentIntents: []savedIntent{},
		Refunds:        append([]Refund{}, s.refunds...),
		Idempotency:    map[string]savedIdem{},
	}
	// The stored session, not s.view: saving must not expire anything.
	for _, id := range s.order {
		sess := s.sessions[id]
		ss := savedSession{Session: *sess, PayURL: sess.payURL, PIMetadata: sess.piMetadata, OwesExpiredEvent: sess.owesExpiredEvent}
		for _, li := range sess.lineItems {
			ss.LineItems = append(ss.LineItems, savedLineItem(li))
		}
		doc.Sessions = append(doc.Sessions, ss)
	}
	for _, pi := range s.intents {
		doc.PaymentIntents = append(doc.PaymentIntents, savedIntent(*pi))
	}
	slices.SortFunc(doc.PaymentIntents, func(a, b savedIntent) int { return strings.Compare(a.ID, b.ID) })
	for key, e := range s.idem {
		doc.Idempotency[key] = savedIdem{
			Method: e.method, Path: e.path, Params: e.params,
			Response:  savedResponse{Status: e.resp.status, Body: string(e.resp.body), Keep: e.resp.keep},
			RequestID: e.requestID, At: e.at,
		}
	}
	return doc
}

// Load replaces the server's state with a document Save wrote, as a
// restarted server would have it: no pending failures, requests or events.
// An empty document is an empty state. On error the state is unchanged.
func (s *Server) Load(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read stripe stand-in state: %w", err)
	}
	var doc state
	if len(bytes.TrimSpace(b)) == 0 {
		doc.Version = stateVersion // nothing saved yet
	} else if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("decode stripe stand-in state: %w", err)
	}
	if doc.Version != stateVersion {
		return fmt.Errorf("load stripe stand-in state: %w %d, want %d", ErrStateVersion, doc.Version, stateVersion)
	}
	sessions, order, intents, err := restoreSessions(doc)
	if err != nil {
		return fmt.Errorf("load stripe stand-in state: %w", err)
	}
	idem := map[string]*idemEntry{}
	for key, e := range doc.Idempotency {
		idem[key] = &idemEntry{
			method: e.Method, path: e.Path, params: e.Params,
			resp:      response{status: e.Response.Status, body: []byte(e.Response.Body), keep: e.Response.Keep},
			requestID: e.RequestID, at: e.At,
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	s.sessions, s.order, s.intents, s.idem = sessions, order, intents, idem
	s.refunds = append([]Refund(nil), doc.Refunds...) // nil when none, as after clear
	return nil
}

// restoreSessions rebuilds the sessions and payment intents, refusing a
// document whose sessions point at payment intents it lacks: the actions
// that settle a payment would find none.
func restoreSessions(doc state) (map[string]*Session, []string, map[string]*paymentIntent, error) {
	intents := map[string]*paymentIntent{}
	for _, si := range doc.PaymentIntents {
		pi := paymentIntent(si)
		intents[pi.ID] = &pi
	}
	sessions := map[string]*Session{}
	var order []string
	for _, ss := range doc.Sessions {
		if _, dup := sessions[ss.ID]; dup {
			return nil, nil, nil, fmt.Errorf("session %s appears twice", ss.ID)
		}
		if pi := ss.PaymentIntent; pi != nil && intents[*pi] == nil {
			return nil, nil, nil, fmt.Errorf("session %s: payment intent %s is missing", ss.ID, *pi)
		}
		sess := ss.Session
		sess.payURL, sess.piMetadata, sess.owesExpiredEvent = ss.PayURL, ss.PIMetadata, ss.OwesExpiredEvent
		for _, li := range ss.LineItems {
			sess.lineItems = append(sess.lineItems, lineItem(li))
		}
		sessions[sess.ID] = &sess
		order = append(order, sess.ID)
	}
	return sessions, order, intents, nil
}
