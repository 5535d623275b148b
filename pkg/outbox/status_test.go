package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestUpdateStatusMovesOnlyForward(t *testing.T) {
	tests := []struct {
		name       string
		updates    []string
		wantStatus string
	}{
		{"in order", []string{"sent", "delivered", "read"}, StatusRead},
		{"reversed", []string{"read", "delivered", "sent"}, StatusRead},
		{"delivered skipped", []string{"sent", "read"}, StatusRead},
		{"delivered then late sent", []string{"delivered", "sent"}, StatusDelivered},
		{"duplicates", []string{"sent", "sent", "delivered", "delivered"}, StatusDelivered},
		{"failed after sent", []string{"sent", "failed"}, StatusFailed},
		{"failed before sent arrives", []string{"failed", "sent"}, StatusFailed},
		{"failed is final", []string{"failed", "delivered", "read"}, StatusFailed},
		{"failed after delivered is ignored", []string{"delivered", "failed"}, StatusDelivered},
		{"failed after read is ignored", []string{"read", "failed"}, StatusRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _ := newOutbox(t, newFakeSender())
			id := enqueue(t, o.DB, reply("reply"))
			if got := deliver(t, o, id); got != Sent {
				t.Fatalf("Deliver = %s", got)
			}
			wamid := readRow(t, o.DB, id).ProviderID
			for _, s := range tt.updates {
				if err := o.UpdateStatus(t.Context(), wamid, "", s, "(#131047) Re-engagement message"); err != nil {
					t.Fatalf("UpdateStatus(%s): %v", s, err)
				}
			}
			r := readRow(t, o.DB, id)
			if r.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", r.Status, tt.wantStatus)
			}
			if failed := r.Status == StatusFailed; failed != strings.Contains(r.LastError, "131047") {
				t.Errorf("status %s with last_error %q", r.Status, r.LastError)
			}
		})
	}
}

func TestUpdateStatusUnknowns(t *testing.T) {
	o, _ := newOutbox(t, newFakeSender())
	id := enqueue(t, o.DB, reply("reply"))
	deliver(t, o, id)
	wamid := readRow(t, o.DB, id).ProviderID

	if err := o.UpdateStatus(t.Context(), "wamid.someone-elses", "", StatusDelivered, ""); !errors.Is(err, ErrUnknownMessage) {
		t.Errorf("unknown wamid: err = %v, want ErrUnknownMessage", err)
	}
	if err := o.UpdateStatus(t.Context(), wamid, "", "deleted", ""); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("unknown status: err = %v, want ErrUnknownStatus", err)
	}
	if err := o.UpdateStatus(t.Context(), wamid, "", StatusPending, ""); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("pending from a webhook: err = %v, want ErrUnknownStatus", err)
	}
	if r := readRow(t, o.DB, id); r.Status != StatusSent {
		t.Errorf("status = %s, want sent untouched", r.Status)
	}
}

// racingSender's message is delivered, and Meta's status webhook applied,
// before its own answer comes back: the order the outbox cannot control.
type racingSender struct{ o *Outbox }

func (r *racingSender) Send(ctx context.Context, _ string, _ json.RawMessage, id uuid.UUID) (string, error) {
	wamid := "wamid.raced." + id.String()
	if err := r.o.UpdateStatus(ctx, wamid, id.String(), StatusDelivered, ""); err != nil {
		return "", err
	}
	return wamid, nil
}

func TestAStatusBeforeTheSendIsRecordedFindsItsRow(t *testing.T) {
	sender := &racingSender{}
	o, clk := newOutbox(t, sender)
	sender.o = o
	id := enqueue(t, o.DB, reply("reply"))
	if got := deliver(t, o, id); got != Sent {
		t.Fatalf("Deliver = %s, want sent", got)
	}
	r := readRow(t, o.DB, id)
	if r.Status != StatusDelivered || r.ProviderID != "wamid.raced."+id.String() || r.Leased {
		t.Errorf("row = %+v, want delivered with its wamid", r)
	}
	clk.Advance(24 * time.Hour)
	if rep, err := o.RetryDue(t.Context(), 10); err != nil || rep != (Report{}) {
		t.Errorf("RetryDue = %+v, %v; want nothing to send again", rep, err)
	}
	// Another row's id with an unknown wamid adopts nothing.
	other := enqueue(t, o.DB, reply("reply"))
	if err := o.UpdateStatus(t.Context(), "wamid.other", uuid.NewString(), StatusSent, ""); !errors.Is(err, ErrUnknownMessage) {
		t.Errorf("err = %v, want ErrUnknownMessage", err)
	}
	if r := readRow(t, o.DB, other); r.Status != StatusPending || r.ProviderID != "" {
		t.Errorf("unrelated row changed: %+v", r)
	}
}
