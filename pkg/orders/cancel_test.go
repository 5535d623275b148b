package orders

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/standin/stripe"
)

func TestCancelUnpaidExpiresTheSessionAndReturnsTheStock(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	ctx := t.Context()
	o, err := h.svc.Create(ctx, h.request("wa:c1", "15550031", Line{"TEE-M", 2}))
	if err != nil {
		t.Fatal(err)
	}
	h.stripe.Fail(stripe.Failure{Count: 3, Status: 503, Type: "api_error", Message: "down"})
	if _, err := h.svc.CancelUnpaid(ctx, Customer{WaID: "15550031"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("with Stripe down: err = %v, want ErrUnavailable", err)
	}
	if got, _ := get(ctx, h.db, o.ID); got.Status != StatusPendingPayment || h.available(t, "TEE-M") != 1 {
		t.Fatalf("with Stripe down the order is %s and %d available, want untouched", got.Status, h.available(t, "TEE-M"))
	}
	for range 2 { // the retry does the work, a second call finds nothing to do
		if _, err := h.svc.CancelUnpaid(ctx, Customer{WaID: "15550031"}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := get(ctx, h.db, o.ID)
	if got.Status != StatusCancelled {
		t.Errorf("order is %s, want cancelled", got.Status)
	}
	if a := h.available(t, "TEE-M"); a != 3 {
		t.Errorf("available %d, want 3", a)
	}
	if s := h.stripe.Sessions(); len(s) != 1 || s[0].Status != "expired" {
		t.Errorf("sessions: %+v", s)
	}
	if left, err := h.svc.CancelUnpaid(ctx, Customer{WaID: "15550031"}); err != nil || len(left) != 0 {
		t.Errorf("nothing left to cancel: got %d orders, %v", len(left), err)
	}
}

func TestCancelUnpaidLeavesAPaymentUnderWayAlone(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	ctx := t.Context()
	o, err := h.svc.Create(ctx, h.request("wa:c2", "15550032", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	payQuietly(t, h, o.CheckoutID)
	if _, err := h.svc.CancelUnpaid(ctx, Customer{WaID: "15550032"}); !errors.Is(err, ErrPreviousOrderPaying) {
		t.Errorf("err = %v, want ErrPreviousOrderPaying", err)
	}
	if got, _ := get(ctx, h.db, o.ID); got.Status != StatusPendingPayment || h.available(t, "TEE-M") != 2 {
		t.Errorf("order %s with %d available, want pending with its hold", got.Status, h.available(t, "TEE-M"))
	}
}

// Meta shared the phone number of a user it first sent by BSUID alone (or
// the other way round): the rows of both addresses are one person, who has
// one unpaid order at most.
func TestOneUnpaidOrderAcrossAUsersAddresses(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	ctx := t.Context()
	const bsuid = "US.13491208655302741918"
	byBSUID := Request{Customer: Customer{WaID: bsuid, UserID: bsuid}, Lines: []Line{{"TEE-M", 2}}, Key: "wa:b1"}
	first, err := h.svc.Create(ctx, byBSUID)
	if err != nil {
		t.Fatal(err)
	}
	byPhone := Request{Customer: Customer{WaID: "15550033", UserID: bsuid}, Lines: []Line{{"TEE-M", 1}}, Key: "wa:b2"}
	if _, err := h.svc.Create(ctx, byPhone); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(ctx, h.db, first.ID); got.Status != StatusCancelled || h.available(t, "TEE-M") != 4 {
		t.Errorf("order by BSUID is %s with %d available, want cancelled and 4", got.Status, h.available(t, "TEE-M"))
	}
	// And cancelling by the BSUID alone finds the order made by phone.
	if cancelled, err := h.svc.CancelUnpaid(ctx, Customer{WaID: bsuid}); err != nil || len(cancelled) != 1 {
		t.Errorf("cancel by BSUID: %d orders, %v; want the one made by phone", len(cancelled), err)
	}
}

// A new order read the previous one before that one's own request stored
// its session and queued the link. The cancel must still expire that
// session, or the link could pay for a cancelled order.
func TestCancelExpiresASessionStoredAfterTheOrderWasRead(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	ctx := t.Context()
	o, err := h.svc.Create(ctx, h.request("wa:c4", "15550034", Line{"TEE-M", 2}))
	if err != nil {
		t.Fatal(err)
	}
	read := *o
	read.CheckoutID, read.CheckoutURL = "", "" // as read before the session was stored
	if err := h.svc.cancelPrevious(ctx, []*Order{&read}); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(ctx, h.db, o.ID); got.Status != StatusCancelled || h.available(t, "TEE-M") != 3 {
		t.Errorf("order %s with %d available; want cancelled and 3", got.Status, h.available(t, "TEE-M"))
	}
	if s := h.stripe.Sessions(); len(s) != 1 || s[0].Status != "expired" {
		t.Errorf("%d sessions, the first %s; want one, expired", len(s), s[0].Status)
	}
}

// A payment link that could not go out yet is not sent once its order is
// cancelled: it would lead to an expired session. (The same holds for any
// move away from pending payment, and for a confirmation once its order is
// no longer paid: outbox rows are owed only while.)
func TestACancelledOrdersUnsentLinkIsWithdrawn(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	ctx := t.Context()
	h.graph.Fail(graph.Failure{Count: 1, Status: 503, Code: 2, Message: "Service temporarily unavailable"})
	o, err := h.svc.Create(ctx, h.request("wa:c5", "15550035", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.CancelUnpaid(ctx, Customer{WaID: "15550035"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	if _, err := h.svc.Outbox.RetryDue(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if n := len(h.graph.Messages("15550035")); n != 0 {
		t.Errorf("%d messages sent for a cancelled order, want none", n)
	}
	var status, reason string
	if err := h.db.QueryRow(ctx, `SELECT status, last_error FROM outbox WHERE order_id = $1 AND kind = $2`, o.ID, KindPaymentLink).
		Scan(&status, &reason); err != nil || status != "withdrawn" || !strings.Contains(reason, "no longer pending_payment") {
		t.Errorf("the link is %s (%s), %v; want withdrawn, as the order is no longer pending payment", status, reason, err)
	}
}
