package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

var templatePayload = json.RawMessage(`{"type":"template","template":{"name":"reservation_expired","language":{"code":"en"}}}`)

// windowSender refuses anything but a template, as Meta does once the
// customer's 24-hour window has closed, and remembers what it sent.
type windowSender struct {
	mu   sync.Mutex
	sent []string
}

func (w *windowSender) Send(_ context.Context, _ string, payload json.RawMessage, _ uuid.UUID) (string, error) {
	var p struct{ Type string }
	_ = json.Unmarshal(payload, &p)
	if p.Type != "template" {
		return "", &WindowClosedError{Err: errors.New("graph api: code 131047: Re-engagement message")}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent = append(w.sent, p.Type)
	return "wamid.template", nil
}

func TestAClosedWindowSendsTheTemplateFallback(t *testing.T) {
	sender := &windowSender{}
	o, _ := newOutbox(t, sender)
	order := newOrder(t, o.DB)
	m := Message{OrderID: &order, Kind: "expiry_notice", Recipient: "15550001111", Payload: textPayload, Fallback: templatePayload}
	id := enqueue(t, o.DB, m)

	if got := deliver(t, o, id); got != Sent {
		t.Fatalf("Deliver = %s, want sent", got)
	}
	if r := readRow(t, o.DB, id); r.Status != StatusSent || r.ProviderID != "wamid.template" {
		t.Errorf("row = %+v, want sent as the template", r)
	}
	if len(sender.sent) != 1 {
		t.Errorf("sent %v, want the template once", sender.sent)
	}
}

func TestAClosedWindowWithoutFallbackFailsTheRow(t *testing.T) {
	o, _ := newOutbox(t, &windowSender{})
	id := enqueue(t, o.DB, reply("reply"))
	if got := deliver(t, o, id); got != Failed {
		t.Fatalf("Deliver = %s, want failed", got)
	}
	if r := readRow(t, o.DB, id); !strings.Contains(r.LastError, "131047") {
		t.Errorf("row = %+v, want the reason recorded", r)
	}
}
