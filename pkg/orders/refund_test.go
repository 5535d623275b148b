package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wa-shop/shop/pkg/inventory"
)

// chargeRefunded is a charge.refunded event as Stripe sends it.
func chargeRefunded(id, paymentIntent string, amount, refunded int64, created time.Time) []byte {
	return chargeRefundedWith(id, paymentIntent, nil, amount, refunded, created)
}

// chargeRefundedWith is chargeRefunded for a charge with metadata.
func chargeRefundedWith(id, paymentIntent string, metadata map[string]string, amount, refunded int64, created time.Time) []byte {
	md, _ := json.Marshal(metadata)
	return fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2024-06-20","created":%d,"type":"charge.refunded",
		"data":{"object":{"id":"ch_1","object":"charge","payment_intent":%q,"metadata":%s,"amount":%d,"amount_refunded":%d,"refunded":%t}}}`,
		id, created.Unix(), paymentIntent, md, amount, refunded, refunded == amount)
}

// paidOrder creates and pays an order of two TEE-M.
func paidOrder(t *testing.T, h *harness, waID string) (*Order, string) {
	t.Helper()
	o, err := h.svc.Create(t.Context(), h.request("wa:"+waID, waID, Line{"TEE-M", 2}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.stripe.Pay(t.Context(), o.CheckoutID, false)
	if err != nil || res.WebhookStatus != 200 {
		t.Fatalf("pay: %v %d", err, res.WebhookStatus)
	}
	return o, *res.Session.PaymentIntent
}

func TestRefunds(t *testing.T) {
	tests := []struct {
		name       string
		shipped    bool
		refund     func(total int64) int64
		wantStatus string
		wantOnHand int
		wantAvail  int
	}{
		{"full refund puts the stock back", false, func(total int64) int64 { return total }, StatusRefunded, 5, 5},
		{"partial refund changes no status", false, func(total int64) int64 { return total / 2 }, StatusPaid, 3, 3},
		{"full refund after shipping keeps the stock out", true, func(total int64) int64 { return total }, StatusRefunded, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, map[string]int{"TEE-M": 5})
			o, pi := paidOrder(t, h, "15550200")
			if tt.shipped {
				exec(t, h.db, `UPDATE orders SET fulfillment_status = 'shipped' WHERE id = $1`, o.ID)
			}
			amount := tt.refund(o.TotalMinor)
			for range 2 { // a repeat changes nothing more
				if st := deliver(t, h, chargeRefunded("evt_refund", pi, o.TotalMinor, amount, time.Now()), webhookSecret); st != 200 {
					t.Fatalf("status %d", st)
				}
			}
			got, _ := get(t.Context(), h.db, o.ID)
			type state struct {
				Status        string
				Refunded      int64
				OnHand, Avail int
			}
			want := state{tt.wantStatus, amount, tt.wantOnHand, tt.wantAvail}
			have := state{got.Status, int64(h.count(t, `SELECT refunded_minor FROM orders WHERE id = $1`, o.ID)),
				h.count(t, `SELECT stock_on_hand FROM variants WHERE sku = 'TEE-M'`), h.available(t, "TEE-M")}
			if diff := cmp.Diff(want, have); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestARefundBeforeItsPaymentIsRetried(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	if st := deliver(t, h, chargeRefunded("evt_early", "pi_unknown", 3000, 3000, h.clock.Now()), webhookSecret); st != 503 {
		t.Errorf("early refund: status %d, want 503 so Stripe retries", st)
	}
	if st := deliver(t, h, chargeRefunded("evt_old", "pi_unknown", 3000, 3000, h.clock.Now().Add(-2*time.Hour)), webhookSecret); st != 200 {
		t.Errorf("a refund for a payment we never had: status %d, want 200", st)
	}
	if n := h.count(t, `SELECT count(*) FROM processed_events WHERE stripe_event_id = 'evt_early'`); n != 0 {
		t.Errorf("the early refund was recorded as done")
	}
}

func TestExpiredAfterPaidChangesNothing(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o, _ := paidOrder(t, h, "15550201")
	session := fmt.Appendf(nil, `{"id":"evt_late_expiry","object":"event","api_version":"2024-06-20","created":%d,
		"type":"checkout.session.expired","data":{"object":{"id":%q,"object":"checkout.session","client_reference_id":%q,"payment_status":"unpaid"}}}`,
		time.Now().Unix(), o.CheckoutID, o.ID)
	if st := deliver(t, h, session, webhookSecret); st != 200 {
		t.Fatalf("status %d", st)
	}
	if got, _ := get(t.Context(), h.db, o.ID); got.Status != StatusPaid || h.available(t, "TEE-M") != 3 {
		t.Errorf("status %s, available %d; want paid and 3", got.Status, h.available(t, "TEE-M"))
	}
}

// A full refund can overtake its payment's event: the payment's delivery
// failed for a while, or a delayed method is still processing. The order
// is refunded at once; the payment's event, when it comes, takes no stock
// and sends no confirmation for money already given back.
func TestARefundOvertakingItsPayment(t *testing.T) {
	tests := []struct {
		name string
		// refundThenPay refunds the order's payment and then delivers the
		// payment's event.
		refundThenPay func(t *testing.T, h *harness, o *Order)
		events        int // Stripe events recorded for the order
	}{
		{"card payment whose event comes late", func(t *testing.T, h *harness, o *Order) {
			refund := chargeRefundedWith("evt_refund_first", "pi_late", map[string]string{"order_id": o.ID.String()},
				o.TotalMinor, o.TotalMinor, h.clock.Now())
			if st := deliver(t, h, refund, webhookSecret); st != 200 {
				t.Fatalf("refund: status %d", st)
			}
			if st := deliver(t, h, sessionCompleted("evt_paid_late", o, "pi_late", h.clock.Now()), webhookSecret); st != 200 {
				t.Fatalf("payment: status %d", st)
			}
		}, 2},
		{"delayed payment still processing", func(t *testing.T, h *harness, o *Order) {
			res, err := h.stripe.Pay(t.Context(), o.CheckoutID, true)
			if err != nil || res.WebhookStatus != 200 {
				t.Fatalf("pay: %v %d", err, res.WebhookStatus)
			}
			refund := chargeRefunded("evt_refund_first", *res.Session.PaymentIntent, o.TotalMinor, o.TotalMinor, h.clock.Now())
			if st := deliver(t, h, refund, webhookSecret); st != 200 {
				t.Fatalf("refund: status %d", st)
			}
			if _, err := h.stripe.AsyncSucceed(context.Background(), o.CheckoutID); err != nil {
				t.Fatal(err)
			}
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, map[string]int{"TEE-M": 5})
			o, err := h.svc.Create(t.Context(), h.request("wa:overtaken", "15550210", Line{"TEE-M", 2}))
			if err != nil {
				t.Fatal(err)
			}
			tt.refundThenPay(t, h, o)
			want := paidState{Status: StatusRefunded, OnHand: 5, Available: 5,
				Reservations: map[string]string{"TEE-M": "released"}, Events: tt.events}
			if diff := cmp.Diff(want, h.paidState(t, o, "TEE-M")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if n := countRefundNotices(h, o.WaID); n != 1 {
				t.Errorf("%d refund notices, want 1", n)
			}
		})
	}
}

func countRefundNotices(h *harness, to string) int {
	n := 0
	for _, m := range h.graph.Messages(to) {
		if strings.Contains(string(m.Body), "has been refunded") {
			n++
		}
	}
	return n
}

// A refund and its payment's event delivered at the same moment, for many
// orders: whichever lands first, every order ends refunded with its stock
// back, and the customer hears of the refund once.
func TestARefundRacingItsPayment(t *testing.T) {
	const n = 12
	h := newHarness(t, map[string]int{"TEE-M": 2 * n})
	var orders []*Order
	for i := range n {
		o, err := h.svc.Create(t.Context(), h.request(fmt.Sprintf("wa:race%d", i), fmt.Sprintf("155503%02d", i), Line{"TEE-M", 2}))
		if err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o)
	}
	var wg sync.WaitGroup
	for i, o := range orders {
		pi := fmt.Sprintf("pi_race_%d", i)
		paid := sessionCompleted(fmt.Sprintf("evt_paid_race_%d", i), o, pi, h.clock.Now())
		refund := chargeRefundedWith(fmt.Sprintf("evt_refund_race_%d", i), pi, map[string]string{"order_id": o.ID.String()},
			o.TotalMinor, o.TotalMinor, h.clock.Now())
		for _, event := range [][]byte{paid, refund} {
			wg.Go(func() {
				if st := deliver(t, h, event, webhookSecret); st != 200 {
					t.Errorf("status %d", st)
				}
			})
		}
	}
	wg.Wait()
	if _, err := h.svc.Inventory.Reconcile(t.Context(), h.db, inventory.ReconcileOptions{}); err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for _, o := range orders {
		got, _ := get(t.Context(), h.db, o.ID)
		statuses[got.Status]++
		if n := countRefundNotices(h, o.WaID); n != 1 {
			t.Errorf("order %s: %d refund notices, want 1", o.ID, n)
		}
	}
	if diff := cmp.Diff(map[string]int{StatusRefunded: n}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if onHand, avail := h.count(t, `SELECT stock_on_hand FROM variants WHERE sku = 'TEE-M'`), h.available(t, "TEE-M"); onHand != 2*n || avail != 2*n {
		t.Errorf("on hand %d, available %d; want %d and %d", onHand, avail, 2*n, 2*n)
	}
}
