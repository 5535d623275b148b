package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wa-shop/shop/pkg/testenv"
)

var textPayload = json.RawMessage(`{"type":"text","text":{"body":"Your order is confirmed."}}`)

// newClock is the tests' time, far from the database's own now(), so a test
// that mixed the two clocks up would fail.
func newClock() *testenv.Clock {
	return testenv.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

// fakeSender answers from a script of errors (nil = success, then forever
// success once the script runs out) and counts calls per outbox id.
type fakeSender struct {
	mu     sync.Mutex
	script []error
	calls  map[uuid.UUID]int
	sent   map[uuid.UUID]int
	onSend func() // runs on every call, before answering
}

func newFakeSender(script ...error) *fakeSender {
	return &fakeSender{script: script, calls: map[uuid.UUID]int{}, sent: map[uuid.UUID]int{}}
}

func (f *fakeSender) Send(ctx context.Context, recipient string, payload json.RawMessage, id uuid.UUID) (string, error) {
	if f.onSend != nil {
		f.onSend()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[id]++
	var err error
	if len(f.script) > 0 {
		err, f.script = f.script[0], f.script[1:]
	}
	if err != nil {
		return "", err
	}
	f.sent[id]++
	return fmt.Sprintf("wamid.%s.%d", id, f.sent[id]), nil
}

func (f *fakeSender) Calls(id uuid.UUID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func (f *fakeSender) Sent(id uuid.UUID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[id]
}

var errUpstream = errors.New("graph api: http 503")

func newOutbox(t *testing.T, sender Sender) (*Outbox, *testenv.Clock) {
	t.Helper()
	c := newClock()
	return &Outbox{DB: testenv.DB(t), Sender: sender, Now: c.Now}, c
}

// newOrder writes the customer and order an outbox row may point at.
func newOrder(t *testing.T, db *pgxpool.Pool) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	err := db.QueryRow(t.Context(), `
		WITH c AS (INSERT INTO customers (wa_id) VALUES ($1) RETURNING id)
		INSERT INTO orders (customer_id, request_key, status, items, currency, total_minor, hold_expires_at, release_after)
		SELECT c.id, $1, 'paid', '[{"sku":"TEE-M","quantity":1,"unit_price_minor":2500}]', 'EUR', 2500, now(), now()
		FROM c RETURNING id`, "1555"+uuid.NewString()[:8]).Scan(&id)
	if err != nil {
		t.Fatalf("seed order: %v", err)
	}
	return id
}

// enqueue commits one message in a transaction of its own.
func enqueue(t *testing.T, db *pgxpool.Pool, m Message) uuid.UUID {
	t.Helper()
	tx, err := db.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	id, err := Enqueue(t.Context(), tx, m)
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	return id
}

func reply(kind string) Message {
	return Message{Kind: kind, Recipient: "15550001111", Payload: textPayload}
}

// row is the part of an outbox row the tests look at.
type row struct {
	Status     string
	Attempts   int
	ProviderID string
	LastError  string
	NextAt     time.Time
	Leased     bool
	SentAt     bool
}

func readRow(t *testing.T, db *pgxpool.Pool, id uuid.UUID) row {
	t.Helper()
	var r row
	err := db.QueryRow(t.Context(), `
		SELECT status, attempts, coalesce(provider_message_id, ''), coalesce(last_error, ''),
		       next_attempt_at, lease_until IS NOT NULL, sent_at IS NOT NULL
		FROM outbox WHERE id = $1`, id).
		Scan(&r.Status, &r.Attempts, &r.ProviderID, &r.LastError, &r.NextAt, &r.Leased, &r.SentAt)
	if err != nil {
		t.Fatalf("read outbox row: %v", err)
	}
	r.NextAt = r.NextAt.UTC()
	return r
}

func deliver(t *testing.T, o *Outbox, id uuid.UUID) Outcome {
	t.Helper()
	got, err := o.Deliver(t.Context(), id)
	if err != nil {
		t.Fatalf("deliver: %v", err)
	}
	return got
}
