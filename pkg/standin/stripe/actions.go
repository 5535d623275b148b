package stripe

import (
	"context"
	"errors"
	"fmt"
)

// Errors of the session actions. The control API answers them 404 and 409.
var (
	ErrUnknownSession = errors.New("unknown checkout session")
	ErrSessionState   = errors.New("checkout session is not in a state for this action")
)

// Pay does what a customer paying on Stripe's page does: the open session
// becomes complete with a PaymentIntent, and checkout.session.completed is
// sent. With delayed, the payment method is a delayed one (SEPA debit, …):
// the session completes unpaid and AsyncSucceed or AsyncFail settles it.
func (s *Server) Pay(ctx context.Context, id string, delayed bool) (ActionResult, error) {
	return s.act(ctx, id, func(sess *Session) (string, error) {
		if sess.Status != statusOpen {
			return "", fmt.Errorf("%w: session is %s; only an open session can be paid", ErrSessionState, sess.Status)
		}
		pi := &paymentIntent{
			ID:       newID("pi_3", 23),
			Session:  sess.ID,
			Amount:   sess.AmountTotal,
			Currency: sess.Currency,
			Charge:   newID("ch_3", 23),
			Status:   "succeeded",
			Metadata: sess.piMetadata,
		}
		sess.Status = statusComplete
		sess.PaymentStatus = paymentPaid
		sess.PaymentIntent = &pi.ID
		if delayed {
			pi.Status = "processing"
			sess.PaymentStatus = paymentUnpaid
		}
		s.intents[pi.ID] = pi
		return eventCompleted, nil
	})
}

// ExpireSession expires an open session, as Stripe does at expires_at, and
// sends checkout.session.expired. For a session that already expired (by
// the API's expire call, or because its expires_at passed on the stand-in's
// clock) it sends the checkout.session.expired event Stripe would have sent
// then, once.
func (s *Server) ExpireSession(ctx context.Context, id string) (ActionResult, error) {
	return s.act(ctx, id, func(sess *Session) (string, error) {
		switch {
		case sess.Status == statusOpen:
			sess.Status = statusExpired
		case sess.Status == statusExpired && sess.owesExpiredEvent:
		default:
			return "", fmt.Errorf("%w: session is %s and its expired event was sent; only an open session can expire", ErrSessionState, sess.Status)
		}
		sess.owesExpiredEvent = false
		return eventExpired, nil
	})
}

// AsyncSucceed settles a delayed payment (see Pay): the session becomes paid
// and checkout.session.async_payment_succeeded is sent.
func (s *Server) AsyncSucceed(ctx context.Context, id string) (ActionResult, error) {
	return s.act(ctx, id, func(sess *Session) (string, error) {
		pi, err := s.pendingPayment(sess)
		if err != nil {
			return "", err
		}
		pi.Status = "succeeded"
		sess.PaymentStatus = paymentPaid
		return eventAsyncSucceeded, nil
	})
}

// AsyncFail fails a delayed payment (see Pay): the session stays complete
// and unpaid, and checkout.session.async_payment_failed is sent.
func (s *Server) AsyncFail(ctx context.Context, id string) (ActionResult, error) {
	return s.act(ctx, id, func(sess *Session) (string, error) {
		pi, err := s.pendingPayment(sess)
		if err != nil {
			return "", err
		}
		pi.Status = "requires_payment_method"
		return eventAsyncFailed, nil
	})
}

// pendingPayment is the delayed payment of a session completed by
// Pay(…, delayed=true) and not settled yet.
func (s *Server) pendingPayment(sess *Session) (*paymentIntent, error) {
	if sess.Status != statusComplete || sess.PaymentIntent == nil || s.intents[*sess.PaymentIntent].Status != "processing" {
		return nil, fmt.Errorf("%w: session %s has no delayed payment pending; pay it with {\"delayed\": true} first",
			ErrSessionState, sess.ID)
	}
	return s.intents[*sess.PaymentIntent], nil
}

// act applies change to session id under the lock, then, without it, sends
// the event change names and reports how the webhook answered.
func (s *Server) act(ctx context.Context, id string, change func(*Session) (string, error)) (ActionResult, error) {
	s.mu.Lock()
	sess, ok := s.sessions[id]
	if !ok {
		s.mu.Unlock()
		return ActionResult{}, fmt.Errorf("%w: %s", ErrUnknownSession, id)
	}
	s.refresh(sess)
	typ, err := change(sess)
	snapshot := s.view(sess)
	s.mu.Unlock()
	if err != nil {
		return ActionResult{Session: snapshot}, err
	}
	return ActionResult{Session: snapshot, Delivery: s.sendEvent(ctx, typ, snapshot)}, nil
}
