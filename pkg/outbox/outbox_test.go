package outbox

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/google/uuid"
)

func TestEnqueueIsOnePerOrderAndKind(t *testing.T) {
	o, _ := newOutbox(t, newFakeSender())
	order := newOrder(t, o.DB)
	m := Message{OrderID: &order, Kind: "order_confirmation", Recipient: "15550001111", Payload: textPayload}

	first := enqueue(t, o.DB, m)
	second := enqueue(t, o.DB, m) // a retried transition
	other := enqueue(t, o.DB, Message{OrderID: &order, Kind: "shipping_update", Recipient: "15550001111", Payload: textPayload})

	if first != second {
		t.Errorf("second enqueue returned %s, want the first row's id %s", second, first)
	}
	if other == first {
		t.Errorf("another kind for the same order got the same row")
	}
	var n int
	if err := o.DB.QueryRow(t.Context(), `SELECT count(*) FROM outbox WHERE order_id = $1`, order).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("rows for the order = %d, want 2", n)
	}
}

func TestEnqueueWithoutOrderNeverDeduplicates(t *testing.T) {
	o, _ := newOutbox(t, newFakeSender())
	a := enqueue(t, o.DB, reply("reply"))
	b := enqueue(t, o.DB, reply("reply"))
	if a == b {
		t.Errorf("two replies with no order share row %s", a)
	}
}

func TestEnqueueRollsBackWithTheCallersTransaction(t *testing.T) {
	o, _ := newOutbox(t, newFakeSender())
	tx, err := o.DB.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Enqueue(t.Context(), tx, reply("reply")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := o.DB.QueryRow(t.Context(), `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("rows after rollback = %d, want 0", n)
	}
}

// Concurrent transitions of one order (duplicate webhooks) must agree on
// one row, including the ones whose INSERT waited for another's commit.
func TestEnqueueConcurrentTransactionsShareOneRow(t *testing.T) {
	o, _ := newOutbox(t, newFakeSender())
	order := newOrder(t, o.DB)
	m := Message{OrderID: &order, Kind: "order_confirmation", Recipient: "15550001111", Payload: textPayload}

	const n = 10
	ids := make([]uuid.UUID, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tx, err := o.DB.Begin(t.Context())
			if err != nil {
				errs[i] = err
				return
			}
			defer tx.Rollback(context.Background())
			if ids[i], errs[i] = Enqueue(t.Context(), tx, m); errs[i] == nil {
				errs[i] = tx.Commit(t.Context())
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("enqueue %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("enqueue %d returned %s, want %s", i, ids[i], ids[0])
		}
	}
}

func TestEnqueueRejectsIncompleteMessages(t *testing.T) {
	o, _ := newOutbox(t, newFakeSender())
	tests := map[string]Message{
		"no kind":           {Recipient: "1555", Payload: textPayload},
		"no recipient":      {Kind: "reply", Payload: textPayload},
		"not JSON":          {Kind: "reply", Recipient: "1555", Payload: json.RawMessage(`{"type":`)},
		"not a JSON object": {Kind: "reply", Recipient: "1555", Payload: json.RawMessage(`["text"]`)},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Enqueue(t.Context(), o.DB, m); err == nil {
				t.Errorf("Enqueue accepted %+v", m)
			}
		})
	}
}
