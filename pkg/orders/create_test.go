package orders

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/standin/stripe"
)

func TestCreateHoldsPricesAndSendsTheLink(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5, "TEE-L": 3})
	ctx := t.Context()
	o, err := h.svc.Create(ctx, h.request("wa:1", "15550001", Line{"TEE-M", 2}, Line{"TEE-L", 1}, Line{"TEE-M", 1}))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	wantItems := []Item{
		{SKU: "TEE-L", Title: "T-shirt — TEE-L", Quantity: 1, UnitPriceMinor: 1700},
		{SKU: "TEE-M", Title: "T-shirt — TEE-M", Quantity: 3, UnitPriceMinor: 1500},
	}
	if diff := cmp.Diff(wantItems, o.Items); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if o.TotalMinor != 6200 || o.Currency != "USD" || o.Status != StatusPendingPayment || o.CheckoutURL == "" {
		t.Errorf("order = %+v", o)
	}
	if got := o.HoldExpiresAt; !got.Equal(t0.Add(10 * minute)) {
		t.Errorf("hold expires %v, want %v", got, t0.Add(10*minute))
	}
	if got, want := o.ReleaseAfter, o.CheckoutExpiry.Add(clockSkew); !got.Equal(want) || o.CheckoutExpiry.Sub(t0) < 30*minute {
		t.Errorf("checkout expiry %v, release after %v", o.CheckoutExpiry, o.ReleaseAfter)
	}
	if diff := cmp.Diff(map[string]string{"TEE-M": "held", "TEE-L": "held"}, h.reservationStates(t, o.ID.String())); diff != "" {
		t.Errorf("reservations (-want +got):\n%s", diff)
	}
	if m, l := h.available(t, "TEE-M"), h.available(t, "TEE-L"); m != 2 || l != 2 {
		t.Errorf("available M=%d L=%d, want 2 and 2", m, l)
	}
	sessions := h.stripe.Sessions()
	if len(sessions) != 1 || sessions[0].AmountTotal != 6200 || *sessions[0].ClientReferenceID != o.ID.String() {
		t.Fatalf("stripe sessions = %+v", sessions)
	}
	sent := h.graph.Messages("15550001")
	if len(sent) != 1 || !strings.Contains(string(sent[0].Body), o.CheckoutURL) {
		t.Errorf("payment link messages = %+v", sent)
	}
	if n := h.count(t, `SELECT count(*) FROM outbox WHERE order_id = $1 AND kind = 'payment_link' AND status = 'sent'`, o.ID); n != 1 {
		t.Errorf("%d sent payment links in the outbox, want 1", n)
	}
}

const minute = 60 * 1e9

func TestCreateIsIdempotentPerKey(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	ctx := t.Context()
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Go(func() {
			o, err := h.svc.Create(ctx, h.request("wa:same", "15550002", Line{"TEE-M", 2}))
			if err != nil {
				t.Errorf("copy %d: %v", i, err)
				return
			}
			ids[i] = o.ID.String()
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("copies got different orders: %v", ids)
		}
	}
	if n := h.count(t, `SELECT count(*) FROM orders`); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
	if n := len(h.stripe.Sessions()); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
	if got := h.available(t, "TEE-M"); got != 3 {
		t.Errorf("available %d, want 3", got)
	}
	if _, err := h.svc.Create(ctx, h.request("wa:same", "15550002", Line{"TEE-M", 1})); !errors.Is(err, ErrKeyReused) {
		t.Errorf("same key, other lines: err = %v, want ErrKeyReused", err)
	}
}

func TestCreateRefusesBadRequests(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 1})
	tests := []struct {
		name  string
		lines []Line
		check func(error) bool
	}{
		{"no items", nil, func(err error) bool { return errors.Is(err, ErrInvalid) }},
		{"zero quantity", []Line{{"TEE-M", 0}}, func(err error) bool { return errors.Is(err, ErrInvalid) }},
		{"over the maximum", []Line{{"TEE-M", 3}, {"TEE-M", 3}}, func(err error) bool { return errors.Is(err, ErrInvalid) }},
		{"two currencies", []Line{{"TEE-M", 1}, {"MUG", 1}}, func(err error) bool { return errors.Is(err, ErrInvalid) }},
		{"unknown SKUs", []Line{{"NOPE", 1}, {"TEE-M", 1}, {"GONE", 1}}, func(err error) bool {
			var u *UnknownSKUError
			return errors.As(err, &u) && cmp.Equal(u.SKUs, []string{"GONE", "NOPE"})
		}},
		{"discontinued", []Line{{"CAP", 1}}, func(err error) bool {
			var s *OutOfStockError
			return errors.As(err, &s) && cmp.Equal(s.Lines, []Shortage{{"CAP", 0, 1}})
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.svc.Create(t.Context(), h.request(fmt.Sprintf("bad:%d", i), "15550003", tt.lines...))
			if !tt.check(err) {
				t.Errorf("err = %v", err)
			}
		})
	}
	if n := h.count(t, `SELECT count(*) FROM orders`); n != 0 {
		t.Errorf("%d orders written for refused requests, want 0", n)
	}
}

func TestOutOfStockLeavesNothingHeld(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 1, "TEE-L": 5})
	ctx := t.Context()
	req := h.request("wa:short", "15550004", Line{"TEE-M", 2}, Line{"TEE-L", 1})
	for attempt := range 2 { // the retry hears the same answer
		_, err := h.svc.Create(ctx, req)
		var short *OutOfStockError
		if !errors.As(err, &short) || !cmp.Equal(short.Lines, []Shortage{{"TEE-M", 1, 2}}) {
			t.Fatalf("attempt %d: err = %v, want TEE-M short", attempt, err)
		}
	}
	if m, l := h.available(t, "TEE-M"), h.available(t, "TEE-L"); m != 1 || l != 5 {
		t.Errorf("available M=%d L=%d, want 1 and 5", m, l)
	}
	if n := h.count(t, `SELECT count(*) FROM reservations WHERE state IN ('pending', 'held')`); n != 0 {
		t.Errorf("%d reservations still claim stock", n)
	}
	if n := len(h.stripe.Sessions()); n != 0 {
		t.Errorf("%d sessions for an order that was never held", n)
	}
}

func TestANewOrderReplacesTheUnpaidOne(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	ctx := t.Context()
	first, err := h.svc.Create(ctx, h.request("wa:a", "15550005", Line{"TEE-M", 3}))
	if err != nil {
		t.Fatal(err)
	}
	second, err := h.svc.Create(ctx, h.request("wa:b", "15550005", Line{"TEE-M", 2}))
	if err != nil {
		t.Fatalf("second order: %v", err)
	}
	got, err := get(ctx, h.db, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusCancelled {
		t.Errorf("first order is %s, want cancelled", got.Status)
	}
	sessions := h.stripe.Sessions()
	if len(sessions) != 2 || sessions[0].Status != "expired" || sessions[1].Status != "open" {
		t.Errorf("sessions: %+v", sessions)
	}
	if a := h.available(t, "TEE-M"); a != 1 || second.Status != StatusPendingPayment {
		t.Errorf("available %d, want 1 (only the second order holds)", a)
	}
}

func TestAPaidPreviousOrderIsNotReplaced(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	ctx := t.Context()
	first, err := h.svc.Create(ctx, h.request("wa:a", "15550006", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	payQuietly(t, h, first.CheckoutID) // paid at Stripe, event not here yet
	if _, err := h.svc.Create(ctx, h.request("wa:b", "15550006", Line{"TEE-M", 1})); !errors.Is(err, ErrPreviousOrderPaying) {
		t.Errorf("err = %v, want ErrPreviousOrderPaying", err)
	}
	if got, _ := get(ctx, h.db, first.ID); got.Status != StatusPendingPayment {
		t.Errorf("paid order is %s, want still pending until its event", got.Status)
	}
}

func TestStripeFailuresLeaveAResumableOrder(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 2})
	ctx := t.Context()
	// More failures than stripe-go's own retries.
	h.stripe.Fail(stripe.Failure{Count: 3, Status: 503, Type: "api_error", Message: "down"})
	req := h.request("wa:retry", "15550007", Line{"TEE-M", 2})
	if _, err := h.svc.Create(ctx, req); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if n := h.count(t, `SELECT count(*) FROM orders WHERE checkout_session_id IS NULL AND status = 'pending_payment'`); n != 1 {
		t.Errorf("%d orders waiting for a session, want 1", n)
	}
	o, err := h.svc.Create(ctx, req)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if o.CheckoutURL == "" || len(h.stripe.Sessions()) != 1 || h.available(t, "TEE-M") != 0 {
		t.Errorf("after retry: url %q, %d sessions, %d available", o.CheckoutURL, len(h.stripe.Sessions()), h.available(t, "TEE-M"))
	}
	if n := len(h.graph.Messages("15550007")); n != 1 {
		t.Errorf("%d payment links sent, want 1", n)
	}
}

func TestStripeRefusalCancelsAndReturnsStock(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 2})
	h.stripe.Fail(stripe.Failure{Count: 1, Status: 400, Type: "invalid_request_error", Message: "no"})
	_, err := h.svc.Create(t.Context(), h.request("wa:refused", "15550008", Line{"TEE-M", 2}))
	if !errors.Is(err, ErrPaymentRefused) {
		t.Fatalf("err = %v, want ErrPaymentRefused", err)
	}
	if got := h.available(t, "TEE-M"); got != 2 {
		t.Errorf("available %d, want 2", got)
	}
	if n := h.count(t, `SELECT count(*) FROM orders WHERE status = 'cancelled'`); n != 1 {
		t.Errorf("%d cancelled orders, want 1", n)
	}
	// The same request again gets the same answer, not the cancelled order.
	if _, err := h.svc.Create(t.Context(), h.request("wa:refused", "15550008", Line{"TEE-M", 2})); !errors.Is(err, ErrPaymentRefused) {
		t.Errorf("retry: err = %v, want ErrPaymentRefused", err)
	}
}

func TestRedisDownThenBack(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 2})
	ctx := t.Context()
	working := h.svc.Inventory
	h.svc.Inventory = inventory.New(deadRedis(t), h.clock.Now)
	req := h.request("wa:redis", "15550009", Line{"TEE-M", 1})
	if _, err := h.svc.Create(ctx, req); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if n := len(h.stripe.Sessions()); n != 0 {
		t.Errorf("%d sessions without a hold", n)
	}
	h.svc.Inventory = working
	if _, err := h.svc.Create(ctx, req); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if h.available(t, "TEE-M") != 1 || len(h.stripe.Sessions()) != 1 || h.count(t, `SELECT count(*) FROM orders`) != 1 {
		t.Errorf("after retry: available %d, %d sessions", h.available(t, "TEE-M"), len(h.stripe.Sessions()))
	}
}

func TestPostgresDownWritesNothing(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 2})
	h.svc.DB = deadPostgres(t)
	if _, err := h.svc.Create(t.Context(), h.request("wa:pg", "15550010", Line{"TEE-M", 1})); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if got := h.available(t, "TEE-M"); got != 2 || len(h.stripe.Sessions()) != 0 {
		t.Errorf("available %d, %d sessions; want 2 and none", got, len(h.stripe.Sessions()))
	}
}

// Cleanup expired the order while a retried request was creating its
// session: the late session is expired, no link goes out, no stock stays held.
func TestAResumeThatLosesToCleanup(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 2})
	h.stripe.Fail(stripe.Failure{Count: 3, Status: 503, Type: "api_error", Message: "down"})
	req := h.request("wa:late-resume", "15550011", Line{"TEE-M", 2})
	if _, err := h.svc.Create(t.Context(), req); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	o, _ := findByKey(t.Context(), h.db, "wa:late-resume")
	// What cleanup does to an order nobody can pay: expired, reservations released.
	exec(t, h.db, `UPDATE orders SET status = 'expired' WHERE id = $1`, o.ID)
	exec(t, h.db, `UPDATE reservations SET state = 'released' WHERE order_id = $1`, o.ID)
	if _, err := h.svc.Inventory.Release(t.Context(), o.ID.String()); err != nil {
		t.Fatal(err)
	}
	// The customer's retry reaches resume while its order is now expired.
	got, err := h.svc.resume(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusExpired || h.available(t, "TEE-M") != 2 || len(h.graph.Messages("15550011")) != 0 {
		t.Errorf("status %s, available %d, %d messages; want expired, 2, none",
			got.Status, h.available(t, "TEE-M"), len(h.graph.Messages("15550011")))
	}
	if s := h.stripe.Sessions(); len(s) != 1 || s[0].Status != "expired" {
		t.Errorf("sessions: %+v", s)
	}
	// Not even queued: a queued link could be picked up by a sender before
	// it was withdrawn.
	if n := h.count(t, `SELECT count(*) FROM outbox WHERE order_id = $1`, o.ID); n != 0 {
		t.Errorf("%d messages queued for the expired order, want none", n)
	}
}

// An order of many different items still gets its payment link: the
// message lists a few and the checkout page the rest, as Meta takes 1,024
// characters in an interactive message's body.
func TestAPaymentLinkForManyItemsFitsMetasLimit(t *testing.T) {
	stock := map[string]int{}
	var lines []Line
	for i := range 40 {
		sku := fmt.Sprintf("TEE-%02d", i)
		stock[sku] = 1
		lines = append(lines, Line{sku, 1})
	}
	h := newHarness(t, stock)
	o, err := h.svc.Create(t.Context(), h.request("wa:many", "15550040", lines...))
	if err != nil {
		t.Fatal(err)
	}
	sent := h.graph.Messages(o.WaID)
	if len(sent) != 1 || !strings.Contains(string(sent[0].Body), "and 32 more items") {
		t.Fatalf("%d messages sent; want the payment link, listing 8 items and 32 more", len(sent))
	}
}
