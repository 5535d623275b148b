package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// Report says what one RetryDue run did.
type Report struct {
	Sent     int `json:"sent"`
	Retrying int `json:"retrying"` // failed for now, due again later
	Failed   int `json:"failed"`
	// Skipped rows were picked but taken by a concurrent run first.
	Skipped int `json:"skipped"`
	// Stopped says the context's deadline (or cancellation) ended the run
	// before every picked row was tried; the rest wait for the next run.
	Stopped bool `json:"stopped"`
}

func (r *Report) add(o Outcome) {
	switch o {
	case Sent:
		r.Sent++
	case Retrying:
		r.Retrying++
	case Failed:
		r.Failed++
	default:
		r.Skipped++
	}
}

// RetryDue delivers up to limit due rows, longest-waiting first: pending,
// never tried or with their retry time come, and not leased. It is cleanup's
// safety net for sends that failed or never ran (a function that died after
// commit).
//
// Runs may overlap: the pick is a plain read, and each row is then taken
// with Deliver's conditional lease, so two runs that pick the same row send
// it once (the loser counts it Skipped).
//
// It stops early, leaving the rest for the next run, when ctx is done or
// its deadline leaves less than one send plus recording: a send cut short
// by the deadline is one whose fate we do not learn, which is how messages
// get sent twice.
func (o *Outbox) RetryDue(ctx context.Context, limit int) (Report, error) {
	var rep Report
	if limit <= 0 {
		return rep, nil
	}
	start := time.Now()
	ids, err := o.due(ctx, limit)
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		if !o.timeForOneMore(ctx) {
			rep.Stopped = true
			break
		}
		outcome, err := o.Deliver(ctx, id)
		rep.add(outcome)
		if err != nil {
			// Postgres trouble: the next row would meet it too.
			return rep, err
		}
	}
	o.log().InfoContext(ctx, "outbox retry run", slog.Int("due", len(ids)), slog.Int("sent", rep.Sent),
		slog.Int("retrying", rep.Retrying), slog.Int("failed", rep.Failed), slog.Int("skipped", rep.Skipped),
		slog.Bool("stopped", rep.Stopped), slog.Int64("took_ms", time.Since(start).Milliseconds()))
	return rep, nil
}

// due lists the ids RetryDue tries, in the order it tries them.
func (o *Outbox) due(ctx context.Context, limit int) ([]uuid.UUID, error) {
	rows, err := o.DB.Query(ctx, `
		SELECT id FROM outbox
		WHERE status = 'pending'
		  AND (attempts = 0 OR next_attempt_at <= $1::timestamptz)
		  AND (lease_until IS NULL OR lease_until <= $1::timestamptz)
		ORDER BY next_attempt_at, created_at
		LIMIT $2`, o.now(), limit)
	if err != nil {
		return nil, fmt.Errorf("list due outbox rows: %w", err)
	}
	defer rows.Close()
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list due outbox rows: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list due outbox rows: %w", err)
	}
	return ids, nil
}

// timeForOneMore says whether ctx leaves room for a whole send and the
// write of its result. Deadlines are wall-clock time, not the Outbox's
// clock: they are the platform's, not business time.
func (o *Outbox) timeForOneMore(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= o.sendTimeout()+recordTimeout
}
