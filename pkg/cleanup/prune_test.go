package cleanup

import (
	"testing"
	"time"
)

// Records of deliveries older than Retention go, in batches, oldest first;
// younger ones stay, since Meta or Stripe may still deliver them again.
func TestARunPrunesDeliveryRecordsPastRetention(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 1}, 1000)
	old := h.clock.Now().Add(-Retention - time.Minute)
	young := h.clock.Now().Add(-Retention + time.Hour)
	oldMessages := pruneBatch + 7 // more than one batch
	if _, err := h.db.Exec(t.Context(), `
		INSERT INTO processed_messages (wa_message_id, outcome, processed_at)
		SELECT 'wamid.old' || g, 'catalogue', $1::timestamptz FROM generate_series(1, $3) g
		UNION ALL SELECT 'wamid.young', 'catalogue', $2::timestamptz`, old, young, oldMessages); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Exec(t.Context(), `
		INSERT INTO processed_events (stripe_event_id, type, outcome, processed_at)
		VALUES ('evt_old', 'checkout.session.completed', 'unknown_order', $1),
		       ('evt_young', 'checkout.session.completed', 'unknown_order', $2)`, old, young); err != nil {
		t.Fatal(err)
	}

	dry := *h.runner
	dry.DryRun = true
	rep, err := dry.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (PruneReport{Messages: int64(oldMessages), Events: 1}); rep.Pruned != want {
		t.Errorf("dry run: pruned %+v, want %+v", rep.Pruned, want)
	}
	if n := h.count(t, `SELECT count(*) FROM processed_messages`); n != oldMessages+1 {
		t.Fatalf("a dry run deleted records: %d left", n)
	}

	rep, err = h.runner.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (PruneReport{Messages: int64(oldMessages), Events: 1}); rep.Pruned != want {
		t.Errorf("pruned %+v, want %+v", rep.Pruned, want)
	}
	type left struct{ Messages, YoungMessages, Events, YoungEvents int }
	got := left{
		Messages:      h.count(t, `SELECT count(*) FROM processed_messages`),
		YoungMessages: h.count(t, `SELECT count(*) FROM processed_messages WHERE wa_message_id = 'wamid.young'`),
		Events:        h.count(t, `SELECT count(*) FROM processed_events`),
		YoungEvents:   h.count(t, `SELECT count(*) FROM processed_events WHERE stripe_event_id = 'evt_young'`),
	}
	if want := (left{1, 1, 1, 1}); got != want {
		t.Errorf("left %+v, want %+v", got, want)
	}
}
