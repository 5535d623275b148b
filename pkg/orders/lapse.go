package orders

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wa-shop/shop/pkg/payments"
)

const (
	// Orders needing no Stripe call are expired unpayableBatch per short
	// transaction; Stripe-bound ones are claimed claimBatch at a time, about
	// a second of calls at 20/s, so a run cut short hands back few.
	unpayableBatch, claimBatch = 200, 20
	// claimLease outlasts any run (25 s): a run that dies leaves its claims
	// to the run after next, and a paid session is asked again only this often.
	claimLease = 2 * time.Minute
	// parallel calls keep up with the limiter's pace (20/s is 50 ms a call).
	parallel = 4
	// stripeDown transient failures in a row end a run's Stripe calls: the
	// rest would meet the same outage.
	stripeDown = 5
	// finishTimeout bounds recording what Stripe confirmed, detached from
	// the run's deadline: a paid-for answer is not thrown away.
	finishTimeout = 5 * time.Second
	minBatchTime  = 250 * time.Millisecond // the least time worth starting a batch in
)

// LapseReport counts what ExpireLapsed did, per outcome.
type LapseReport struct {
	NoSession      int  `json:"no_session"`           // never got a session: expired and released
	PastRelease    int  `json:"past_release"`         // past release_after: released whatever Stripe says
	SessionExpired int  `json:"session_expired"`      // Stripe confirmed the expiry: expired, released, notice queued
	SessionPaid    int  `json:"session_paid"`         // Stripe says complete: the payment applied as its event would be
	Settled        int  `json:"already_settled"`      // an event or another run settled it first
	StripeRetry    int  `json:"stripe_retry"`         // Stripe failed for now: unchanged, next run
	StripeFailed   int  `json:"stripe_failed"`        // Stripe refused: unchanged until release_after
	Released       int  `json:"holds_released"`       // holds given back in Redis
	ReleaseErrors  int  `json:"release_errors"`       // Redis failed: reconcile repairs it
	AskStripe      int  `json:"ask_stripe,omitempty"` // dry run: Stripe-bound orders due
	Stopped        bool `json:"stopped"`              // the deadline, the limit or a Stripe outage left work
}

// tally is the report both lanes count into; inc adds to one of its fields.
type tally struct {
	mu sync.Mutex
	r  LapseReport
}

func (t *tally) inc(field *int, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	*field += n
}

// ExpireLapsed returns the stock of provisional orders past their hold's
// expires_at that nobody can pay any more (DESIGN "A hold's life"), stopping
// before ctx's deadline. Two lanes of at most limit orders each run side by
// side, so Stripe's rate limit does not hold up the rest:
//   - unpayable (no session, or past release_after): taken FOR UPDATE SKIP
//     LOCKED and expired in the same short transaction;
//   - Stripe-bound: leased in one short statement, then expired at Stripe
//     with no transaction open; only Stripe's confirmation changes them.
//
// Concurrent runs share the work and do none of it twice: locked rows are
// skipped, leased ones wait, and every change is conditional on the order
// still being pending_payment.
func (s *Service) ExpireLapsed(ctx context.Context, limit int) (LapseReport, error) {
	var t tally
	var errs [2]error
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = s.expireUnpayable(ctx, limit, &t) })
	wg.Go(func() { errs[1] = s.expireSessions(ctx, limit, &t) })
	wg.Wait()
	return t.r, errors.Join(errs[:]...)
}

// timeLeft says whether ctx leaves time to start another batch or call.
func timeLeft(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ctx.Err() == nil && (!ok || time.Until(deadline) > minBatchTime)
}

// next sizes a lane's next batch: zero, marking the report stopped, when the
// limit, the deadline or a Stripe outage leaves work for the next run.
func next(ctx context.Context, batch, left int, ok bool, t *tally) int {
	if left > 0 && ok && timeLeft(ctx) {
		return min(batch, left)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.r.Stopped = true
	return 0
}

func (s *Service) expireUnpayable(ctx context.Context, limit int, t *tally) error {
	for {
		n := next(ctx, unpayableBatch, limit, true, t)
		if n == 0 {
			return nil
		}
		var expired []*Order
		picked := 0
		err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT `+orderColumns+` FROM orders o JOIN customers c ON c.id = o.customer_id
				WHERE o.status = 'pending_payment' AND o.hold_expires_at <= $1
				  AND (o.checkout_session_id IS NULL OR o.release_after <= $1)
				ORDER BY o.hold_expires_at LIMIT $2 FOR UPDATE OF o SKIP LOCKED`, s.Now(), n)
			if err != nil {
				return err
			}
			batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Order, error) { return scanOrder(r) })
			picked = len(batch)
			if err == nil {
				expired, err = s.expireOrders(ctx, tx, batch)
			}
			return err
		})
		if err != nil {
			return err
		}
		limit -= picked
		for _, o := range expired {
			t.inc(map[bool]*int{true: &t.r.NoSession, false: &t.r.PastRelease}[o.CheckoutID == ""], 1)
		}
		s.release(ctx, expired, t)
		if picked < n {
			return nil
		}
	}
}

// expireOrders moves orders from pending_payment to expired, releases their
// reservations and queues the expiry notice of those that had a payment
// link, in one statement. The notice is unique per order and kind, so the
// checkout.session.expired event (payment.go's settle) cannot queue a
// second. It returns the orders it changed, reusing batch.
func (s *Service) expireOrders(ctx context.Context, q querier, batch []*Order) ([]*Order, error) {
	// Ids go as text: under the pool's exec mode pgx cannot encode []uuid.UUID.
	var ids, noticeIDs, reasons, recipients, payloads []string
	var fallbacks []*string
	for _, o := range batch {
		ids = append(ids, o.ID.String())
		reasons = append(reasons, map[bool]string{true: "no_session", false: "session_ended"}[o.CheckoutID == ""])
		// Without a session the customer never got a link to pay: as far
		// as they know nothing was reserved, so there is nothing to tell.
		if o.CheckoutID != "" && o.WaID != "" {
			noticeIDs, recipients = append(noticeIDs, o.ID.String()), append(recipients, o.WaID)
			m := s.expiryNotice(o)
			var fallback *string // NULL without one
			if m.Fallback != nil {
				fallback = new(string(m.Fallback))
			}
			payloads, fallbacks = append(payloads, string(m.Payload)), append(fallbacks, fallback)
		}
	}
	rows, err := q.Query(ctx, `
		WITH expired AS (
			UPDATE orders o SET status = 'expired', updated_at = now(),
				metadata = (o.metadata - 'lapse_claimed_until') || jsonb_build_object('lapsed', l.reason)
			FROM unnest($1::uuid[], $2::text[]) AS l(id, reason)
			WHERE o.id = l.id AND o.status = 'pending_payment'
			RETURNING o.id
		), released AS (
			UPDATE reservations SET state = 'released', updated_at = now()
			WHERE order_id IN (SELECT id FROM expired) AND state IN ('pending', 'held')
		), notices AS (
			INSERT INTO outbox (order_id, kind, recipient, payload, fallback)
			SELECT n.id, $3, n.recipient, n.payload::jsonb, n.fallback::jsonb
			FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[]) AS n(id, recipient, payload, fallback)
			WHERE n.id IN (SELECT id FROM expired)
			ON CONFLICT (order_id, kind) WHERE order_id IS NOT NULL DO NOTHING
		)
		SELECT id FROM expired`, ids, reasons, KindExpiryNotice, noticeIDs, recipients, payloads, fallbacks)
	if err != nil {
		return nil, err
	}
	changed, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return slices.DeleteFunc(batch, func(o *Order) bool { return !slices.Contains(changed, o.ID) }), err
}

// release gives holds back in Redis once Postgres said released; if Redis
// fails, reconcile or a rebuild follows Postgres, as does release_after.
func (s *Service) release(ctx context.Context, expired []*Order, t *tally) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	each(expired, func(o *Order) {
		if _, err := s.Inventory.Release(ctx, o.ID.String()); err != nil {
			s.Log.WarnContext(ctx, "release lapsed hold", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
			t.inc(&t.r.ReleaseErrors, 1)
			return
		}
		t.inc(&t.r.Released, 1)
	})
}

// each runs f on every order, a few at a time.
func each(batch []*Order, f func(*Order)) {
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, o := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(o)
		})
	}
	wg.Wait()
}

// expireSessions claims Stripe-bound orders a batch at a time and expires
// their sessions, paced by the Checkout's rate limiter.
func (s *Service) expireSessions(ctx context.Context, limit int, t *tally) error {
	var failures atomic.Int32 // transient Stripe failures in a row
	for {
		n := next(ctx, claimBatch, limit, failures.Load() < stripeDown, t)
		if n == 0 {
			return nil
		}
		lease := s.Now().Add(claimLease)
		claimed, err := s.claim(ctx, lease, n)
		if err != nil {
			return err
		}
		limit -= len(claimed)
		var mu sync.Mutex
		var giveBack []string
		each(claimed, func(o *Order) {
			if !timeLeft(ctx) || failures.Load() >= stripeDown || s.expireSession(ctx, o, &failures, t) {
				mu.Lock()
				defer mu.Unlock()
				giveBack = append(giveBack, o.ID.String())
			}
		})
		if len(giveBack) > 0 {
			// Hand back what this run could not settle (the lease is the
			// fencing token), so the next run asks Stripe again.
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
			_, err = s.DB.Exec(uctx, `UPDATE orders SET metadata = metadata - 'lapse_claimed_until'
				WHERE id = ANY($1::uuid[]) AND (metadata->>'lapse_claimed_until')::timestamptz = $2`, giveBack, lease)
			cancel()
		}
		if err != nil || len(claimed) < n {
			return err
		}
	}
}

// claim leases up to n Stripe-bound lapsed orders to this run in one short
// statement, skipping rows another run is claiming.
func (s *Service) claim(ctx context.Context, lease time.Time, n int) ([]*Order, error) {
	rows, err := s.DB.Query(ctx, `
		WITH picked AS (
			SELECT id FROM orders
			WHERE status = 'pending_payment' AND hold_expires_at <= $1 AND checkout_session_id IS NOT NULL
			  AND release_after > $1 AND COALESCE((metadata->>'lapse_claimed_until')::timestamptz, '-infinity') <= $1
			ORDER BY hold_expires_at LIMIT $3 FOR UPDATE SKIP LOCKED
		), claimed AS (
			UPDATE orders o SET metadata = o.metadata || jsonb_build_object('lapse_claimed_until', $2::timestamptz)
			FROM picked WHERE o.id = picked.id RETURNING o.*
		)
		SELECT `+orderColumns+` FROM claimed o JOIN customers c ON c.id = o.customer_id`, s.Now(), lease, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Order, error) { return scanOrder(r) })
}

// expireSession acts on Stripe's confirmation only. retry hands the claim
// back; a paid or refused session keeps it until the lease ends.
func (s *Service) expireSession(ctx context.Context, o *Order, failures *atomic.Int32, t *tally) (retry bool) {
	session, err := s.Checkout.ExpireSession(ctx, o.CheckoutID)
	switch {
	case err != nil && !payments.IsTransient(err):
		s.Log.WarnContext(ctx, "expire lapsed session", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
		t.inc(&t.r.StripeFailed, 1)
		return false
	case err != nil || (session.Status != payments.StatusExpired && session.Status != payments.StatusComplete):
		failures.Add(1)
		t.inc(&t.r.StripeRetry, 1)
		return true
	}
	failures.Store(0)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if session.Status == payments.StatusComplete {
		t.inc(&t.r.SessionPaid, 1)
		return s.applyCompleted(fctx, o, session) != nil
	}
	expired, err := s.expireOrders(fctx, s.DB, []*Order{o})
	if err != nil {
		// Stripe will say expired again: the next run records it.
		s.Log.WarnContext(ctx, "expire lapsed order", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
		return true
	}
	t.inc(&t.r.SessionExpired, len(expired))
	t.inc(&t.r.Settled, 1-len(expired))
	s.release(ctx, expired, t)
	return false
}

// SessionPaymentPrefix starts the record of a payment cleanup read from a
// session (applyCompleted) rather than from Stripe's event.
const SessionPaymentPrefix = "session_complete:"

// applyCompleted applies a payment Stripe reports but whose event has not
// been applied, as the event would (Stripe's fulfilment guide reads the
// session for the same reason): the payment-callback may be failing, and
// left alone the hold would be released at release_after and its stock
// sold again. The record's id is the session's, so runs apply it once; the
// event, when it comes, finds the order settled.
func (s *Service) applyCompleted(ctx context.Context, o *Order, session payments.Session) error {
	err := s.Apply(ctx, payments.Event{ID: SessionPaymentPrefix + session.ID, Type: payments.EventSessionCompleted,
		Created: s.Now(), SessionID: session.ID, OrderID: o.ID.String(), PaymentStatus: session.PaymentStatus,
		PaymentIntentID: session.PaymentIntentID})
	if err != nil {
		// The claim goes back: the next run asks Stripe again.
		s.Log.WarnContext(ctx, "apply a completed session", slog.String("order_id", o.ID.String()), slog.String("error", err.Error()))
	}
	return err
}
