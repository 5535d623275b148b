package cleanup

import (
	"context"
	"fmt"
	"time"
)

const (
	// Retention is how long the record of a handled delivery is kept. Meta
	// retries a webhook for up to 7 days and Stripe for 3; a copy older
	// than this would be handled again (a late WhatsApp message only gets
	// the catalogue, and Stripe's transitions are conditional, so even
	// that does no harm).
	Retention = 8 * 24 * time.Hour
	// pruneBatch bounds one DELETE, so it holds its locks briefly and the
	// run can stop at its deadline between batches.
	pruneBatch = 5000
	// pruneTime is the least time left worth starting another batch in.
	pruneTime = time.Second
)

// PruneReport counts the delivery records a run deleted (in a dry run,
// would delete).
type PruneReport struct {
	Messages int64 `json:"messages"`
	Events   int64 `json:"events"`
	Stopped  bool  `json:"stopped"` // the deadline left some for the next run
}

// pruned lists the tables of delivery records, each with its key.
var pruned = []struct{ table, key string }{
	{"processed_messages", "wa_message_id"},
	{"processed_events", "stripe_event_id"},
}

// prune deletes delivery records older than Retention, oldest first, in
// batches. Concurrent runs skip each other's rows.
func (r *Runner) prune(ctx context.Context) (PruneReport, error) {
	var rep PruneReport
	cutoff := r.Orders.Now().Add(-Retention)
	counts := []*int64{&rep.Messages, &rep.Events}
	for i, t := range pruned {
		if r.DryRun {
			err := r.DB.QueryRow(ctx, `SELECT count(*) FROM `+t.table+` WHERE processed_at < $1`, cutoff).Scan(counts[i])
			if err != nil {
				return rep, fmt.Errorf("count old %s: %w", t.table, err)
			}
			continue
		}
		for {
			tag, err := r.DB.Exec(ctx, `DELETE FROM `+t.table+` WHERE `+t.key+` IN (
				SELECT `+t.key+` FROM `+t.table+` WHERE processed_at < $1
				ORDER BY processed_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, cutoff, pruneBatch)
			if err != nil {
				return rep, fmt.Errorf("prune %s: %w", t.table, err)
			}
			*counts[i] += tag.RowsAffected()
			if tag.RowsAffected() < pruneBatch {
				break
			}
			if timeLeft(ctx) < pruneTime {
				rep.Stopped = true // more may be left
				return rep, nil
			}
		}
	}
	return rep, nil
}
