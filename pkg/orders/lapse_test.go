package orders

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/payments"
	"github.com/wa-shop/shop/pkg/standin/stripe"
)

// lapsed creates n one-unit orders of TEE-M by n customers and moves the
// clock past their holds' expires_at.
func lapsed(t *testing.T, h *harness, n int) []*Order {
	t.Helper()
	var out []*Order
	for i := range n {
		o, err := h.svc.Create(t.Context(), h.request(fmt.Sprintf("lapse:%d", i), fmt.Sprintf("1555020%04d", i), Line{"TEE-M", 1}))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	h.clock.Advance(11 * time.Minute)
	return out
}

// lapseState is what cleanup leaves behind for a set of orders.
type lapseState struct {
	Expired, Pending, Notices, Claimed, HeldRows, Holds int
	Available                                           int
}

func (h *harness) lapseState(t *testing.T, orders []*Order) lapseState {
	t.Helper()
	var s lapseState
	for _, o := range orders {
		got, err := get(t.Context(), h.db, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		s.Expired += map[bool]int{true: 1}[got.Status == StatusExpired]
		s.Pending += map[bool]int{true: 1}[got.Status == StatusPendingPayment]
		s.Holds += int(h.rdb.Exists(t.Context(), inventory.HoldKey(o.ID.String())).Val())
	}
	s.Notices = h.count(t, `SELECT count(*) FROM outbox WHERE kind = $1`, KindExpiryNotice)
	s.Claimed = h.count(t, `SELECT count(*) FROM orders WHERE metadata ? 'lapse_claimed_until'`)
	s.HeldRows = h.count(t, `SELECT count(*) FROM reservations WHERE state = 'held'`)
	s.Available = h.available(t, "TEE-M")
	return s
}

func (h *harness) expireCalls() int {
	n := 0
	for _, r := range h.stripe.Requests() {
		if r.Method == "POST" && len(r.Path) > 7 && r.Path[len(r.Path)-7:] == "/expire" {
			n++
		}
	}
	return n
}

// quickCheckout talks to the harness's Stripe stand-in without stripe-go's
// own retries, so injected failures are consumed one per call.
func quickCheckout(t *testing.T, h *harness, rate float64) *payments.Checkout {
	srv := httptest.NewServer(h.stripe)
	t.Cleanup(srv.Close)
	c, err := payments.NewCheckout(config.StripeAPI{Secret: "sk_test_orders", BaseURL: srv.URL,
		SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cancel", RateLimit: rate},
		payments.WithClock(h.clock.Now), payments.WithMaxNetworkRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLapsedHoldsAreReleasedOnce(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	orders := lapsed(t, h, 3)
	rep, err := h.svc.ExpireLapsed(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(LapseReport{SessionExpired: 3, Released: 3}, rep); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	// Stripe sends checkout.session.expired for each; then cleanup runs again.
	for _, o := range orders {
		if res, err := h.stripe.ExpireSession(t.Context(), o.CheckoutID); err != nil || res.WebhookStatus != 200 {
			t.Fatalf("expired event: %v %+v", err, res.Delivery)
		}
	}
	h.clock.Advance(time.Minute)
	if rep, err := h.svc.ExpireLapsed(t.Context(), 100); err != nil || rep != (LapseReport{}) {
		t.Errorf("second run = %+v, %v; want nothing to do", rep, err)
	}
	want := lapseState{Expired: 3, Notices: 3, Available: 5}
	if diff := cmp.Diff(want, h.lapseState(t, orders)); diff != "" {
		t.Errorf("after cleanup and the events (-want +got):\n%s", diff)
	}
	if n := h.expireCalls(); n != 3 {
		t.Errorf("%d expire calls to Stripe, want 3", n)
	}
}

// The customer paid, but the payment's event is late (the payment-callback
// is failing, say). Cleanup finds the session complete and applies the
// payment itself, so the stock is sold rather than released at
// release_after; the event, when it comes, changes nothing more.
func TestASessionPaidJustBeforeCleanupIsSold(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o, err := h.svc.Create(t.Context(), h.request("lapse:paid", "15550210", Line{"TEE-M", 2}))
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(11 * time.Minute)
	event := payQuietly(t, h, o.CheckoutID) // paid; the event is still on its way
	rep, err := h.svc.ExpireLapsed(t.Context(), 100)
	if err != nil || rep != (LapseReport{SessionPaid: 1}) {
		t.Fatalf("ExpireLapsed = %+v, %v; want the session found paid", rep, err)
	}
	want := paidState{Status: StatusPaid, OnHand: 3, Available: 3,
		Reservations: map[string]string{"TEE-M": "committed"}, Holds: 0, Events: 1, Confirmation: 1}
	if diff := cmp.Diff(want, h.paidState(t, o, "TEE-M")); diff != "" {
		t.Errorf("after cleanup (-want +got):\n%s", diff)
	}
	h.clock.Advance(time.Hour) // long past release_after
	if rep, err := h.svc.ExpireLapsed(t.Context(), 100); err != nil || rep != (LapseReport{}) {
		t.Errorf("a later run = %+v, %v; want nothing to do", rep, err)
	}
	if st := deliver(t, h, event, webhookSecret); st != 200 {
		t.Fatalf("payment event answered %d", st)
	}
	want.Events = 2 // the event is recorded too, as already paid
	if diff := cmp.Diff(want, h.paidState(t, o, "TEE-M")); diff != "" {
		t.Errorf("after the payment event (-want +got):\n%s", diff)
	}
}

func TestStripeFailuresLeaveLapsedHoldsForTheNextRun(t *testing.T) {
	for _, status := range []int{500, 503, 429} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			h := newHarness(t, map[string]int{"TEE-M": 5})
			h.svc.Checkout = quickCheckout(t, h, 1000)
			orders := lapsed(t, h, 2)
			h.stripe.Fail(stripe.Failure{Count: 2, Status: status})
			rep, err := h.svc.ExpireLapsed(t.Context(), 100)
			if err != nil || rep != (LapseReport{StripeRetry: 2}) {
				t.Fatalf("ExpireLapsed = %+v, %v; want two retries", rep, err)
			}
			if diff := cmp.Diff(lapseState{Pending: 2, HeldRows: 2, Holds: 2, Available: 3}, h.lapseState(t, orders)); diff != "" {
				t.Errorf("after Stripe failed (-want +got):\n%s", diff)
			}
			rep, err = h.svc.ExpireLapsed(t.Context(), 100)
			if err != nil || rep != (LapseReport{SessionExpired: 2, Released: 2}) {
				t.Fatalf("next run = %+v, %v", rep, err)
			}
			if diff := cmp.Diff(lapseState{Expired: 2, Notices: 2, Available: 5}, h.lapseState(t, orders)); diff != "" {
				t.Errorf("after the next run (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOrdersNobodyCanPayAreReleasedWithoutAskingStripe(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	// Create failed at Stripe: the order holds stock but has no session.
	h.svc.Checkout = quickCheckout(t, h, 1000)
	h.stripe.Fail(stripe.Failure{Count: 1, Status: 500})
	if _, err := h.svc.Create(t.Context(), h.request("lapse:nosession", "15550220", Line{"TEE-M", 1})); err == nil {
		t.Fatal("Create succeeded; want the injected failure")
	}
	// Another order's session outlives its release_after while Stripe is down.
	paid, err := h.svc.Create(t.Context(), h.request("lapse:old", "15550221", Line{"TEE-M", 2}))
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(41 * time.Minute)
	h.stripe.Fail(stripe.Failure{Count: 100, Status: 500})
	calls := h.expireCalls()
	rep, err := h.svc.ExpireLapsed(t.Context(), 100)
	if err != nil || rep != (LapseReport{NoSession: 1, PastRelease: 1, Released: 2}) {
		t.Fatalf("ExpireLapsed = %+v, %v", rep, err)
	}
	if h.expireCalls() != calls {
		t.Errorf("Stripe was asked; nobody could pay these")
	}
	// Only the order with a payment link hears that it lapsed.
	if diff := cmp.Diff(lapseState{Expired: 1, Notices: 1, Available: 5}, h.lapseState(t, []*Order{paid})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTwoCleanupsAtOnceDoEachOrderOnce(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 40})
	orders := lapsed(t, h, 30)
	var wg sync.WaitGroup
	reps := make([]LapseReport, 2)
	for i := range reps {
		wg.Go(func() {
			var err error
			if reps[i], err = h.svc.ExpireLapsed(t.Context(), 100); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := reps[0].SessionExpired + reps[1].SessionExpired; got != 30 {
		t.Errorf("sessions expired %d (%+v), want 30", got, reps)
	}
	if diff := cmp.Diff(lapseState{Expired: 30, Notices: 30, Available: 40}, h.lapseState(t, orders)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := h.expireCalls(); n != 30 {
		t.Errorf("%d expire calls, want 30: a session was expired twice", n)
	}
}

func TestARunCutOffByItsDeadlineResumes(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 40})
	h.svc.Checkout = quickCheckout(t, h, 20) // the default rate: 30 calls take 1.5 s
	orders := lapsed(t, h, 30)
	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()
	first, err := h.svc.ExpireLapsed(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Stopped || first.SessionExpired == 0 || first.SessionExpired >= 30 {
		t.Fatalf("first run = %+v; want it cut off partway", first)
	}
	mid := h.lapseState(t, orders)
	if mid.Claimed != 0 || mid.Expired != first.SessionExpired {
		t.Errorf("after the cut: %+v; want no claims left and %d expired", mid, first.SessionExpired)
	}
	second, err := h.svc.ExpireLapsed(t.Context(), 100)
	if err != nil || second.Stopped {
		t.Fatal(second, err)
	}
	if got := first.SessionExpired + second.SessionExpired + second.Settled; got != 30 {
		t.Errorf("expired %d + %d (+%d settled), want 30 in all", first.SessionExpired, second.SessionExpired, second.Settled)
	}
	if diff := cmp.Diff(lapseState{Expired: 30, Notices: 30, Available: 40}, h.lapseState(t, orders)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
