package whatsapp

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseNotification feeds the parser bodies mutated from every golden
// payload. Whatever a body holds, parsing and flattening must not panic,
// failures must be ErrNotWhatsApp (the webhook's 400), and what the handlers
// rely on must hold: no message lost or doubled between mine and others, and
// a Kind only where its content is present. Interesting inputs found on the
// way are kept in testdata/fuzz/FuzzParseNotification.
func FuzzParseNotification(f *testing.F) {
	seeds, err := filepath.Glob("testdata/inbound/*.json")
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no golden payloads to seed from: %v", err)
	}
	for _, path := range append(seeds, "testdata/text_message.json") {
		body, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseNotification(body)
		if err != nil {
			if !errors.Is(err, ErrNotWhatsApp) || b != nil {
				t.Fatalf("ParseNotification = %v, %v; want nil and ErrNotWhatsApp", b, err)
			}
			return
		}
		total := 0
		for _, v := range b.values() {
			total += len(v.Messages)
			for i := range v.Messages {
				checkSender(t, v, &v.Messages[i])
			}
		}
		mine, others := b.Inbound(exPhoneID)
		if len(mine)+len(others) != total {
			t.Fatalf("Inbound returned %d+%d messages of %d", len(mine), len(others), total)
		}
		for _, in := range mine {
			if in.PhoneNumberID != exPhoneID {
				t.Fatalf("message to %q counted as ours", in.PhoneNumberID)
			}
			checkKind(t, &in.Message)
		}
		for _, in := range others {
			if in.PhoneNumberID == exPhoneID {
				t.Fatal("message to our number counted as another's")
			}
			checkKind(t, &in.Message)
		}
		for _, s := range b.Statuses() {
			if !s.Timestamp.IsZero() && s.Timestamp.Location() != time.UTC {
				t.Fatalf("status time %v not in UTC", s.Timestamp)
			}
		}
		_ = b.Errors()
	})
}

// checkKind fails t if m's Kind promises content m does not have: handlers
// dereference the field their kind names without looking.
func checkKind(t *testing.T, m *Message) {
	t.Helper()
	ok := true
	switch m.Kind() {
	case KindText:
		ok = m.Text != nil
	case KindOrder:
		ok = m.Order != nil
	case KindQuickReply:
		ok = m.Button != nil
	case KindListReply:
		ok = m.Interactive != nil && m.Interactive.ListReply != nil
	case KindButtonReply:
		ok = m.Interactive != nil && m.Interactive.ButtonReply != nil
	case KindProductInquiry:
		ok = m.Context != nil && m.Context.ReferredProduct != nil
	case KindIdentityChange:
		ok = m.System != nil
	case KindOther:
	default:
		ok = false
	}
	if !ok {
		t.Fatalf("Kind() = %q for a message without that content: %+v", m.Kind(), m)
	}
}

// checkSender fails t if m's sender is not one of v's contacts, or is another
// than the contact whose phone number or BSUID names m's sender.
func checkSender(t *testing.T, v *Value, m *Message) {
	t.Helper()
	got := v.sender(m)
	if got == (Contact{}) {
		return
	}
	found := false
	for _, c := range v.Contacts {
		found = found || c == got
		named := (m.From != "" && c.WaID == m.From) || (m.FromUserID != "" && c.UserID == m.FromUserID)
		if named && c != got && !((m.From != "" && got.WaID == m.From) || (m.FromUserID != "" && got.UserID == m.FromUserID)) {
			t.Fatalf("sender %+v chosen over %+v, which names the message's sender", got, c)
		}
	}
	if !found {
		t.Fatalf("sender %+v is not among the value's contacts", got)
	}
}
