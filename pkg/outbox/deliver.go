package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Outbox sends what Enqueue wrote. It is safe for concurrent use, and any
// number of Outboxes (function instances) may work on one table: a row is
// sent only by whoever holds its lease.
type Outbox struct {
	DB     *pgxpool.Pool
	Sender Sender
	// Now is the clock every due time, lease and backoff is measured on;
	// time.Now when nil. Tests move it instead of sleeping.
	Now func() time.Time
	// Log receives one line per send outcome; discarded when nil.
	Log *slog.Logger

	// MaxAttempts is how many sends may fail before the row is failed;
	// DefaultMaxAttempts when zero.
	MaxAttempts int
	// MaxAge is how long after it was queued a message may still be tried;
	// DefaultMaxAge when zero.
	MaxAge time.Duration
	// Lease is how long a taken row belongs to its sender; DefaultLease
	// when zero. It must outlast SendTimeout plus recording the result.
	Lease time.Duration
	// SendTimeout bounds one call to Sender; DefaultSendTimeout when zero.
	SendTimeout time.Duration
}

// leased is a row whose lease we hold; attempts is the fencing token.
type leased struct {
	id        uuid.UUID
	orderID   *uuid.UUID
	kind      string
	recipient string
	payload   []byte
	fallback  []byte
	attempts  int
	age       time.Duration // since it was queued, on Postgres's clock like created_at
}

// Deliver sends the message with the given id if it is pending, due and not
// leased by someone else, and records the outcome. Anything else is a no-op
// answered Skipped: a message already sent or failed, one whose retry is not
// due yet, or one another sender holds — so calling Deliver right after
// commit and again from cleanup is always safe.
//
// The send's own failure is not an error: it is recorded and reported as
// Retrying or Failed. The error is for the outbox's own trouble (Postgres);
// when it comes with Sent, the message went out but is not recorded as such
// and may be sent again once the lease expires (see the package doc).
func (o *Outbox) Deliver(ctx context.Context, id uuid.UUID) (Outcome, error) {
	row, ok, err := o.take(ctx, id, o.now())
	if err != nil || !ok {
		return Skipped, err
	}
	return o.send(ctx, row)
}

// take claims the row with one conditional UPDATE: pending, due (never
// tried, or its retry time has come) and with no live lease. Concurrent
// takers serialise on the row; Postgres re-checks the condition for the
// second, which then matches nothing. No transaction stays open after it.
// A row owed only while its order has a status it no longer has is given
// up instead of taken.
func (o *Outbox) take(ctx context.Context, id uuid.UUID, now time.Time) (leased, bool, error) {
	r := leased{id: id}
	var ageSeconds float64
	var owed bool
	err := o.DB.QueryRow(ctx, `
		WITH due AS (
			SELECT id, owed_while IS NULL
			       OR EXISTS (SELECT 1 FROM orders WHERE orders.id = outbox.order_id AND orders.status = outbox.owed_while) AS owed
			FROM outbox
			WHERE id = $1 AND status = 'pending'
			  AND (attempts = 0 OR next_attempt_at <= $2::timestamptz)
			  AND (lease_until IS NULL OR lease_until <= $2::timestamptz)
			FOR UPDATE
		)
		UPDATE outbox o
		SET lease_until = CASE WHEN due.owed THEN $3::timestamptz END,
		    attempts = o.attempts + CASE WHEN due.owed THEN 1 ELSE 0 END,
		    status = CASE WHEN due.owed THEN o.status ELSE $4 END,
		    last_error = CASE WHEN due.owed THEN o.last_error ELSE 'the order is no longer ' || o.owed_while END,
		    updated_at = $2::timestamptz
		FROM due WHERE o.id = due.id
		RETURNING due.owed, o.order_id, o.kind, o.recipient, o.payload, o.fallback, o.attempts, extract(epoch FROM now() - o.created_at)`,
		id, now, now.Add(o.lease()), StatusWithdrawn).Scan(&owed, &r.orderID, &r.kind, &r.recipient, &r.payload, &r.fallback, &r.attempts, &ageSeconds)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	r.age = time.Duration(ageSeconds * float64(time.Second))
	if err != nil {
		return r, false, fmt.Errorf("lease outbox %s: %w", id, err)
	}
	if !owed {
		o.log().InfoContext(ctx, "outbox message no longer owed; not sent", o.attrs(r)...)
	}
	return r, owed, nil
}

// send calls the Sender and records what happened.
func (o *Outbox) send(ctx context.Context, r leased) (Outcome, error) {
	sendCtx, cancel := context.WithTimeout(ctx, o.sendTimeout())
	providerID, sendErr := o.Sender.Send(sendCtx, r.recipient, r.payload, r.id)
	var closed *WindowClosedError
	if errors.As(sendErr, &closed) && len(r.fallback) > 0 {
		// Refused outright, so nothing went out: the template goes instead.
		o.log().InfoContext(ctx, "outbox window closed; sending the template fallback", o.attrs(r)...)
		providerID, sendErr = o.Sender.Send(sendCtx, r.recipient, r.fallback, r.id)
	}
	cancel()

	// Recorded even when the caller's context has just been cancelled: the
	// send has happened, and every moment it stays unrecorded is a moment
	// in which a crash would make it go out twice.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	now := o.now()
	if sendErr == nil {
		return Sent, o.recordSent(rctx, r, providerID, now)
	}
	permanent, rateLimit := classify(sendErr)
	switch {
	case permanent:
		return o.recordFailed(rctx, r, sendErr.Error(), now)
	case r.attempts >= o.maxAttempts() || r.age >= o.maxAge():
		return o.recordFailed(rctx, r, fmt.Sprintf("gave up after %d attempts in %s: %v",
			r.attempts, r.age.Round(time.Minute), sendErr), now)
	}
	return o.recordRetry(rctx, r, sendErr, now.Add(retryDelay(r.attempts, rateLimit)), now)
}

func (o *Outbox) recordSent(ctx context.Context, r leased, providerID string, now time.Time) error {
	if providerID == "" {
		// The provider took the message but its answer carried no id; the
		// send is done, only status webhooks cannot be matched to it.
		o.log().WarnContext(ctx, "outbox sent without a provider message id", o.attrs(r)...)
	}
	// Unlike a failure, a success is recorded even if our lease has passed
	// to another sender: the message went out, and saying so stops the
	// retries that would send it again.
	var holder int
	err := o.DB.QueryRow(ctx, `
		UPDATE outbox
		SET status = 'sent', provider_message_id = NULLIF($2::text, ''), sent_at = $3::timestamptz,
		    updated_at = $3::timestamptz, lease_until = NULL, last_error = NULL
		WHERE id = $1 AND status = 'pending'
		RETURNING attempts`,
		r.id, providerID, now).Scan(&holder)
	attrs := append(o.attrs(r), slog.String("wa_message_id", providerID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		var recorded string
		_ = o.DB.QueryRow(ctx, `SELECT COALESCE(provider_message_id, '') FROM outbox WHERE id = $1`, r.id).Scan(&recorded)
		if recorded == providerID && providerID != "" {
			return nil // Meta's status webhook got here first and recorded this very send
		}
		// Another sender, which took over our expired lease, recorded its
		// own send first. Only a send slower than the lease gets here.
		o.log().WarnContext(ctx, "outbox lease lost during send; message was sent twice", attrs...)
		return nil
	case err != nil:
		return fmt.Errorf("record outbox %s sent as %s: %w", r.id, providerID, err)
	case holder != r.attempts:
		o.log().WarnContext(ctx, "outbox lease lost during send; the new holder may send it again", attrs...)
		return nil
	}
	o.log().InfoContext(ctx, "outbox sent", attrs...)
	return nil
}

func (o *Outbox) recordFailed(ctx context.Context, r leased, reason string, now time.Time) (Outcome, error) {
	tag, err := o.DB.Exec(ctx, `
		UPDATE outbox
		SET status = 'failed', last_error = $3, lease_until = NULL, updated_at = $4::timestamptz
		WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
		r.id, r.attempts, truncate(reason), now)
	if err != nil {
		return Failed, fmt.Errorf("record outbox %s failed: %w", r.id, err)
	}
	if tag.RowsAffected() == 0 {
		return Skipped, nil // the lease passed to another sender, whose outcome counts
	}
	o.log().ErrorContext(ctx, "outbox message failed", append(o.attrs(r), slog.String("error", reason))...)
	return Failed, nil
}

func (o *Outbox) recordRetry(ctx context.Context, r leased, sendErr error, next, now time.Time) (Outcome, error) {
	tag, err := o.DB.Exec(ctx, `
		UPDATE outbox
		SET next_attempt_at = $3::timestamptz, last_error = $4, lease_until = NULL, updated_at = $5::timestamptz
		WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
		r.id, r.attempts, next, truncate(sendErr.Error()), now)
	if err != nil {
		return Retrying, fmt.Errorf("reschedule outbox %s: %w", r.id, err)
	}
	if tag.RowsAffected() == 0 {
		return Skipped, nil
	}
	o.log().WarnContext(ctx, "outbox send failed; will retry", append(o.attrs(r),
		slog.String("error", sendErr.Error()), slog.Time("next_attempt_at", next))...)
	return Retrying, nil
}

// attrs are the log keys every outcome shares; never the recipient or the
// body.
func (o *Outbox) attrs(r leased) []any {
	a := []any{slog.String("outbox_id", r.id.String()), slog.String("kind", r.kind), slog.Int("attempt", r.attempts)}
	if r.orderID != nil {
		a = append(a, slog.String("order_id", r.orderID.String()))
	}
	return a
}

// truncate keeps last_error readable; provider messages are short, but a
// proxy's HTML error page is not.
func truncate(s string) string {
	const max = 1000
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Outbox) log() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (o *Outbox) maxAttempts() int {
	if o.MaxAttempts > 0 {
		return o.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (o *Outbox) maxAge() time.Duration {
	if o.MaxAge > 0 {
		return o.MaxAge
	}
	return DefaultMaxAge
}

func (o *Outbox) lease() time.Duration {
	if o.Lease > 0 {
		return o.Lease
	}
	return DefaultLease
}

func (o *Outbox) sendTimeout() time.Duration {
	if o.SendTimeout > 0 {
		return o.SendTimeout
	}
	return DefaultSendTimeout
}
