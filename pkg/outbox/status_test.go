package outbox

import (
	"errors"
	"strings"
	"testing"
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
				if err := o.UpdateStatus(t.Context(), wamid, s, "(#131047) Re-engagement message"); err != nil {
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

	if err := o.UpdateStatus(t.Context(), "wamid.someone-elses", StatusDelivered, ""); !errors.Is(err, ErrUnknownMessage) {
		t.Errorf("unknown wamid: err = %v, want ErrUnknownMessage", err)
	}
	if err := o.UpdateStatus(t.Context(), wamid, "deleted", ""); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("unknown status: err = %v, want ErrUnknownStatus", err)
	}
	if err := o.UpdateStatus(t.Context(), wamid, StatusPending, ""); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("pending from a webhook: err = %v, want ErrUnknownStatus", err)
	}
	if r := readRow(t, o.DB, id); r.Status != StatusSent {
		t.Errorf("status = %s, want sent untouched", r.Status)
	}
}
