package orders

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/payments"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/standin/stripe"
)

// paidState is what a paid order leaves behind.
type paidState struct {
	Status       string
	OnHand       int
	Available    int
	Reservations map[string]string
	Holds        int64
	Events       int
	Confirmation int
}

func (h *harness) paidState(t *testing.T, o *Order, sku string) paidState {
	t.Helper()
	got, err := get(t.Context(), h.db, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return paidState{
		Status:       got.Status,
		OnHand:       h.count(t, `SELECT stock_on_hand FROM variants WHERE sku = $1`, sku),
		Available:    h.available(t, sku),
		Reservations: h.reservationStates(t, o.ID.String()),
		Holds:        h.rdb.Exists(t.Context(), inventory.HoldKey(o.ID.String())).Val(),
		Events:       h.count(t, `SELECT count(*) FROM processed_events WHERE order_id = $1`, o.ID),
		Confirmation: countTemplates(h, o.WaID, "order_confirmation"),
	}
}

func countTemplates(h *harness, to, name string) int {
	n := 0
	for _, m := range h.graph.Messages(to) {
		if bytes.Contains(m.Body, []byte(`"name":"`+name+`"`)) {
			n++
		}
	}
	return n
}

func TestPaymentCompletesTheOrder(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o, err := h.svc.Create(t.Context(), h.request("wa:pay", "15550100", Line{"TEE-M", 2}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.stripe.Pay(t.Context(), o.CheckoutID, false)
	if err != nil || res.WebhookStatus != 200 {
		t.Fatalf("pay: %v, webhook answered %d %s", err, res.WebhookStatus, res.WebhookError)
	}
	want := paidState{Status: StatusPaid, OnHand: 3, Available: 3,
		Reservations: map[string]string{"TEE-M": "committed"}, Holds: 0, Events: 1, Confirmation: 1}
	if diff := cmp.Diff(want, h.paidState(t, o, "TEE-M")); diff != "" {
		t.Errorf("after payment (-want +got):\n%s", diff)
	}
}

// The same event, delivered five times at once and then once more, changes
// the shop once.
func TestTheSameEventFiveTimesAtOnce(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o, err := h.svc.Create(t.Context(), h.request("wa:dup", "15550101", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	// Pay without delivering, then deliver the recorded event ourselves.
	res := payQuietly(t, h, o.CheckoutID)
	var wg sync.WaitGroup
	statuses := make([]int, 5)
	for i := range statuses {
		wg.Go(func() { statuses[i] = deliver(t, h, res, webhookSecret) })
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 200 && st != 409 {
			t.Errorf("copy %d answered %d", i, st)
		}
	}
	if st := deliver(t, h, res, webhookSecret); st != 200 {
		t.Errorf("a later copy answered %d, want 200", st)
	}
	want := paidState{Status: StatusPaid, OnHand: 4, Available: 4,
		Reservations: map[string]string{"TEE-M": "committed"}, Holds: 0, Events: 1, Confirmation: 1}
	if diff := cmp.Diff(want, h.paidState(t, o, "TEE-M")); diff != "" {
		t.Errorf("after five copies (-want +got):\n%s", diff)
	}
}

func TestBadSignatureWritesNothing(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o, err := h.svc.Create(t.Context(), h.request("wa:sig", "15550102", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	res := payQuietly(t, h, o.CheckoutID)
	if st := deliver(t, h, res, "whsec_someone_else"); st != 400 {
		t.Errorf("status %d, want 400", st)
	}
	if n := h.count(t, `SELECT count(*) FROM processed_events`); n != 0 {
		t.Errorf("%d events recorded from a forged delivery", n)
	}
}

func TestLatePaymentWithStockLeftIsSold(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	o, err := h.svc.Create(t.Context(), h.request("wa:late", "15550103", Line{"TEE-M", 2}))
	if err != nil {
		t.Fatal(err)
	}
	// The hold lapsed (cleanup or a lazy release gave the stock back)...
	if _, err := h.svc.Inventory.Release(t.Context(), o.ID.String()); err != nil {
		t.Fatal(err)
	}
	// ...but the session was still open, and the customer paid.
	if _, err := h.stripe.Pay(t.Context(), o.CheckoutID, false); err != nil {
		t.Fatal(err)
	}
	want := paidState{Status: StatusPaid, OnHand: 1, Available: 1,
		Reservations: map[string]string{"TEE-M": "committed"}, Holds: 0, Events: 1, Confirmation: 1}
	if diff := cmp.Diff(want, h.paidState(t, o, "TEE-M")); diff != "" {
		t.Errorf("after a late payment (-want +got):\n%s", diff)
	}
}

func TestLatePaymentWithoutStockIsRefunded(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 2})
	late, other := soldOut(t, h, "15550104", "15550105")
	if _, err := h.stripe.Pay(t.Context(), late.CheckoutID, false); err != nil {
		t.Fatal(err)
	}
	got, _ := get(t.Context(), h.db, late.ID)
	if got.Status != StatusRefunded {
		t.Errorf("late order is %s, want refunded", got.Status)
	}
	refunds := h.stripe.Refunds()
	if len(refunds) != 1 || refunds[0].Amount != late.TotalMinor {
		t.Errorf("refunds at Stripe: %+v", refunds)
	}
	if n := h.count(t, `SELECT stock_on_hand FROM variants WHERE sku = 'TEE-M'`); n != 2 {
		t.Errorf("stock on hand %d, want 2 (nothing sold)", n)
	}
	if h.available(t, "TEE-M") != 0 || h.rdb.Exists(t.Context(), inventory.HoldKey(other.ID.String())).Val() != 1 {
		t.Errorf("the other order lost its hold")
	}
	if n := len(h.graph.Messages("15550104")); n != 2 { // payment link, then the apology
		t.Errorf("%d messages to the late customer, want 2", n)
	}
}

func TestExpiredSessionReleasesTheStock(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	o, err := h.svc.Create(t.Context(), h.request("wa:exp", "15550106", Line{"TEE-M", 3}))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h.stripe.ExpireSession(t.Context(), o.CheckoutID); err != nil || res.WebhookStatus != 200 {
		t.Fatalf("expire: %v, webhook %d", err, res.WebhookStatus)
	}
	got, _ := get(t.Context(), h.db, o.ID)
	if got.Status != StatusExpired || h.available(t, "TEE-M") != 3 {
		t.Errorf("status %s, available %d; want expired and 3", got.Status, h.available(t, "TEE-M"))
	}
	msgs := h.graph.Messages("15550106")
	if len(msgs) != 2 || !strings.Contains(string(msgs[1].Body), "lapsed") {
		t.Errorf("customer messages: %d", len(msgs))
	}
}

func TestEventsOfAnotherAPIVersion(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	o, err := h.svc.Create(t.Context(), h.request("wa:ver", "15550107", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	res := payQuietly(t, h, o.CheckoutID)
	event := regexp.MustCompile(`"api_version":\s*"[^"]*"`).ReplaceAll(res, []byte(`"api_version": "2026-09-30.clover"`))
	if bytes.Equal(event, res) {
		t.Fatal("the event carries no api_version to change")
	}
	if st := deliver(t, h, event, webhookSecret); st != 200 {
		t.Fatalf("status %d", st)
	}
	if got, _ := get(t.Context(), h.db, o.ID); got.Status != StatusPaid {
		t.Errorf("status %s, want paid", got.Status)
	}
}

// payQuietly pays a session with event delivery switched off and returns
// the event Stripe would have sent.
func payQuietly(t *testing.T, h *harness, sessionID string) []byte {
	t.Helper()
	before := len(h.stripe.Events())
	h.stripe.SetWebhookURL("")
	defer h.stripe.SetWebhookURL(h.callbackURL)
	if _, err := h.stripe.Pay(t.Context(), sessionID, false); err != nil {
		t.Fatal(err)
	}
	events := h.stripe.Events()
	if len(events) != before+1 {
		t.Fatalf("%d events recorded, want one more", len(events)-before)
	}
	return events[len(events)-1].Event
}

// soldOut leaves an unpaid order (of waID) whose hold lapsed and whose
// stock another customer (otherWaID) holds now, and returns both orders:
// paying the first is a late payment without stock.
func soldOut(t *testing.T, h *harness, waID, otherWaID string) (late, other *Order) {
	t.Helper()
	late, err := h.svc.Create(t.Context(), h.request("wa:"+waID, waID, Line{"TEE-M", 2}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Inventory.Release(t.Context(), late.ID.String()); err != nil {
		t.Fatal(err)
	}
	if other, err = h.svc.Create(t.Context(), h.request("wa:"+otherWaID, otherWaID, Line{"TEE-M", 2})); err != nil {
		t.Fatal(err)
	}
	return late, other
}

// sessionCompleted is a checkout.session.completed event for o, paid
// through paymentIntent.
func sessionCompleted(id string, o *Order, paymentIntent string, created time.Time) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2024-06-20","created":%d,
		"type":"checkout.session.completed","data":{"object":{"id":%q,"object":"checkout.session",
		"client_reference_id":%q,"payment_status":"paid","payment_intent":%q,"amount_total":%d,"currency":"usd"}}}`,
		id, created.Unix(), o.CheckoutID, o.ID, paymentIntent, o.TotalMinor)
}

// deliver posts a Stripe event to payment-callback signed with secret.
func deliver(t *testing.T, h *harness, payload []byte, secret string) int {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now()})
	req, _ := http.NewRequestWithContext(t.Context(), "POST", h.callbackURL, bytes.NewReader(signed.Payload))
	req.Header.Set("Stripe-Signature", signed.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestDelayedPayments(t *testing.T) {
	tests := []struct {
		name       string
		settle     func(h *harness, id string) error
		wantStatus string
		wantOnHand int
		wantAvail  int
	}{
		{"succeeds", func(h *harness, id string) error {
			_, err := h.stripe.AsyncSucceed(context.Background(), id)
			return err
		},
			StatusPaid, 3, 3},
		{"fails", func(h *harness, id string) error { _, err := h.stripe.AsyncFail(context.Background(), id); return err },
			StatusPaymentFailed, 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, map[string]int{"TEE-M": 5})
			o, err := h.svc.Create(t.Context(), h.request("wa:delay", "15550300", Line{"TEE-M", 2}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.stripe.Pay(t.Context(), o.CheckoutID, true); err != nil {
				t.Fatal(err)
			}
			got, _ := get(t.Context(), h.db, o.ID)
			releaseAfter, _ := h.rdb.HGet(t.Context(), inventory.HoldKey(o.ID.String()), "release_after").Int64()
			if got.Status != StatusProcessing || time.UnixMilli(releaseAfter).Before(t0.Add(7*24*time.Hour)) {
				t.Fatalf("after a delayed payment: status %s, hold until %v", got.Status, time.UnixMilli(releaseAfter))
			}
			// Long after the session's end, the hold still stands.
			h.clock.Advance(48 * time.Hour)
			if err := tt.settle(h, o.CheckoutID); err != nil {
				t.Fatal(err)
			}
			got, _ = get(t.Context(), h.db, o.ID)
			onHand := h.count(t, `SELECT stock_on_hand FROM variants WHERE sku = 'TEE-M'`)
			if got.Status != tt.wantStatus || onHand != tt.wantOnHand || h.available(t, "TEE-M") != tt.wantAvail {
				t.Errorf("status %s, on hand %d, available %d; want %s, %d, %d",
					got.Status, onHand, h.available(t, "TEE-M"), tt.wantStatus, tt.wantOnHand, tt.wantAvail)
			}
		})
	}
}

// The Graph API fails when the confirmation is first sent; cleanup's outbox
// retry delivers it later, once.
func TestConfirmationSurvivesAGraphOutage(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o, err := h.svc.Create(t.Context(), h.request("wa:outage", "15550301", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	h.graph.Fail(graph.Failure{Count: 1, Status: 503, Code: 2, Message: "Service temporarily unavailable"})
	if _, err := h.stripe.Pay(t.Context(), o.CheckoutID, false); err != nil {
		t.Fatal(err)
	}
	if n := countTemplates(h, "15550301", "order_confirmation"); n != 0 {
		t.Fatalf("%d confirmations during the outage", n)
	}
	for range 3 {
		h.clock.Advance(time.Hour)
		if _, err := h.svc.Outbox.RetryDue(t.Context(), 10); err != nil {
			t.Fatal(err)
		}
	}
	if n := countTemplates(h, "15550301", "order_confirmation"); n != 1 {
		t.Errorf("%d confirmations after the outage, want 1", n)
	}
}

func TestARefundStripeRefusesIsLeftToAPerson(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 2})
	late, _ := soldOut(t, h, "15550108", "15550109")
	h.stripe.Fail(stripe.Failure{Count: 1, Status: 400, Code: "charge_disputed", Message: "This charge is disputed."})
	res, err := h.stripe.Pay(t.Context(), late.CheckoutID, false)
	if err != nil || res.WebhookStatus != 200 {
		t.Fatalf("pay: %v, webhook %d; want 200: retrying cannot help", err, res.WebhookStatus)
	}
	outcome := ""
	if err := h.db.QueryRow(t.Context(), `SELECT outcome FROM processed_events WHERE order_id = $1`, late.ID).Scan(&outcome); err != nil || outcome != "needs_manual_refund" {
		t.Errorf("event outcome %q (%v), want needs_manual_refund", outcome, err)
	}
	// Cancelled, so cleanup never tells a customer who paid that their
	// reservation lapsed; the refund a person makes settles it.
	if got, _ := get(t.Context(), h.db, late.ID); got.Status != StatusCancelled {
		t.Errorf("order is %s, want cancelled until a person refunds it", got.Status)
	}
	refund := chargeRefunded("evt_by_hand", *res.Session.PaymentIntent, late.TotalMinor, late.TotalMinor, time.Now())
	if st := deliver(t, h, refund, webhookSecret); st != 200 {
		t.Fatalf("the refund made by hand: status %d", st)
	}
	if got, _ := get(t.Context(), h.db, late.ID); got.Status != StatusRefunded || countRefundNotices(h, late.WaID) != 1 {
		t.Errorf("after the refund by hand: %s with %d notices; want refunded, 1", got.Status, countRefundNotices(h, late.WaID))
	}
}

// Copies of one event are kept apart by a claim; if a copy's claim lapses
// mid-work, two copies can run at once. These replay the second copy's
// view after the first settled the order.
func TestACopyThatLostItsClaim(t *testing.T) {
	event := func(o *Order, pi string) payments.Event {
		return payments.Event{ID: "evt_copy", Type: payments.EventSessionCompleted, Created: time.Now(),
			SessionID: o.CheckoutID, OrderID: o.ID.String(), PaymentStatus: "paid", PaymentIntentID: pi}
	}
	t.Run("sends no confirmation for an order the other copy refunded", func(t *testing.T) {
		h := newHarness(t, map[string]int{"TEE-M": 5})
		o, err := h.svc.Create(t.Context(), h.request("wa:copy1", "15550110", Line{"TEE-M", 1}))
		if err != nil {
			t.Fatal(err)
		}
		exec(t, h.db, `UPDATE orders SET status = 'refunded', refunded_minor = total_minor WHERE id = $1`, o.ID)
		if err := h.svc.paid(t.Context(), event(o, "pi_copy1"), o); err != nil {
			t.Fatal(err)
		}
		if got, _ := get(t.Context(), h.db, o.ID); got.Status != StatusRefunded || countTemplates(h, o.WaID, "order_confirmation") != 0 {
			t.Errorf("status %s with %d confirmations; want refunded and none", got.Status, countTemplates(h, o.WaID, "order_confirmation"))
		}
		if n := h.count(t, `SELECT count(*) FROM outbox WHERE order_id = $1 AND kind = $2`, o.ID, KindConfirmation); n != 0 {
			t.Errorf("%d confirmations queued", n)
		}
	})
	t.Run("tells nothing more of a refund for an order the other copy sold", func(t *testing.T) {
		h := newHarness(t, map[string]int{"TEE-M": 5})
		o, err := h.svc.Create(t.Context(), h.request("wa:copy2", "15550111", Line{"TEE-M", 1}))
		if err != nil {
			t.Fatal(err)
		}
		stale := *o
		res, err := h.stripe.Pay(t.Context(), o.CheckoutID, false)
		if err != nil || res.WebhookStatus != 200 {
			t.Fatalf("pay: %v %d", err, res.WebhookStatus)
		}
		// The copy that found no stock refunds; the order is paid meanwhile.
		if err := h.svc.refundUnstocked(t.Context(), event(&stale, *res.Session.PaymentIntent), &stale); err != nil {
			t.Fatal(err)
		}
		got, _ := get(t.Context(), h.db, o.ID)
		if got.Status != StatusPaid || len(h.stripe.Refunds()) != 1 || countRefundNotices(h, o.WaID) != 0 {
			t.Errorf("status %s, %d refunds, %d refund notices; want paid (until Stripe reports the refund), 1, 0",
				got.Status, len(h.stripe.Refunds()), countRefundNotices(h, o.WaID))
		}
		if n := h.count(t, `SELECT count(*) FROM outbox WHERE order_id = $1 AND kind = $2`, o.ID, KindRefundNotice); n != 0 {
			t.Errorf("%d out-of-stock notices queued for a sold order", n)
		}
		// Stripe's charge.refunded for that refund settles it as any refund.
		refund := chargeRefunded("evt_copy_refund", *res.Session.PaymentIntent, o.TotalMinor, o.TotalMinor, time.Now())
		if st := deliver(t, h, refund, webhookSecret); st != 200 {
			t.Fatalf("refund event: status %d", st)
		}
		want := paidState{Status: StatusRefunded, OnHand: 5, Available: 5,
			Reservations: map[string]string{"TEE-M": "returned"}, Events: 3, Confirmation: 1}
		if diff := cmp.Diff(want, h.paidState(t, o, "TEE-M")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// A delayed payment's hold must outlast the session even when Redis cannot
// be reached as the event arrives: the event is answered 5xx, not recorded,
// so Stripe's retry extends the hold.
func TestADelayedPaymentDuringARebuildIsRetried(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o, err := h.svc.Create(t.Context(), h.request("wa:rebuild", "15550302", Line{"TEE-M", 2}))
	if err != nil {
		t.Fatal(err)
	}
	h.stripe.SetWebhookURL("")
	if _, err := h.stripe.Pay(t.Context(), o.CheckoutID, true); err != nil {
		t.Fatal(err)
	}
	h.stripe.SetWebhookURL(h.callbackURL)
	events := h.stripe.Events()
	event := events[len(events)-1].Event

	h.rdb.Del(t.Context(), inventory.EpochKey) // Redis is being rebuilt
	if st := deliver(t, h, event, webhookSecret); st < 500 {
		t.Fatalf("during the rebuild: status %d, want 5xx so Stripe retries", st)
	}
	if got, _ := get(t.Context(), h.db, o.ID); got.Status != StatusPendingPayment {
		t.Errorf("during the rebuild the order became %s", got.Status)
	}
	if _, err := h.svc.Inventory.Rebuild(t.Context(), h.db); err != nil {
		t.Fatal(err)
	}
	if st := deliver(t, h, event, webhookSecret); st != 200 {
		t.Fatalf("Stripe's retry: status %d", st)
	}
	got, _ := get(t.Context(), h.db, o.ID)
	releaseAfter, _ := h.rdb.HGet(t.Context(), inventory.HoldKey(o.ID.String()), "release_after").Int64()
	if got.Status != StatusProcessing || time.UnixMilli(releaseAfter).Before(h.clock.Now().Add(7*24*time.Hour)) {
		t.Errorf("after the retry: status %s, hold until %v; want processing and a hold of days", got.Status, time.UnixMilli(releaseAfter))
	}
}

// rebuildAfterReserve runs a rebuild right after the order's hold is
// reserved, once armed: the window between a late payment's re-reserve and
// its commit.
type rebuildAfterReserve struct {
	order, sku string
	armed      atomic.Bool
	rebuild    func()
}

func (r *rebuildAfterReserve) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *rebuildAfterReserve) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (r *rebuildAfterReserve) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		// The reserve script is the call naming both the hold and a stock counter.
		args := fmt.Sprint(cmd.Args())
		if err == nil && strings.Contains(args, inventory.HoldKey(r.order)) && strings.Contains(args, inventory.StockKey(r.sku)) &&
			r.armed.CompareAndSwap(true, false) {
			r.rebuild()
		}
		return err
	}
}

func TestALatePaymentSurvivesARebuildBeforeItsCommit(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	o, err := h.svc.Create(t.Context(), h.request("wa:rebuilt", "15550112", Line{"TEE-M", 2}))
	if err != nil {
		t.Fatal(err)
	}
	// The order expired and its stock went back, in Postgres and Redis.
	exec(t, h.db, `UPDATE orders SET status = 'expired' WHERE id = $1`, o.ID)
	exec(t, h.db, `UPDATE reservations SET state = 'released' WHERE order_id = $1`, o.ID)
	if _, err := h.svc.Inventory.Release(t.Context(), o.ID.String()); err != nil {
		t.Fatal(err)
	}
	hook := &rebuildAfterReserve{order: o.ID.String(), sku: "TEE-M", rebuild: func() {
		if _, err := inventory.New(h.rdb, h.clock.Now).Rebuild(context.Background(), h.db); err != nil {
			t.Error(err)
		}
	}}
	hook.armed.Store(true)
	h.rdb.AddHook(hook)
	if st := deliver(t, h, sessionCompleted("evt_paid_rebuilt", o, "pi_rebuilt", h.clock.Now()), webhookSecret); st != 200 {
		t.Fatalf("payment: status %d", st)
	}
	if hook.armed.Load() {
		t.Fatal("the rebuild never ran between the reserve and the commit")
	}
	want := paidState{Status: StatusPaid, OnHand: 1, Available: 1,
		Reservations: map[string]string{"TEE-M": "committed"}, Holds: 0, Events: 1, Confirmation: 1}
	if diff := cmp.Diff(want, h.paidState(t, o, "TEE-M")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := len(h.stripe.Refunds()); n != 0 {
		t.Errorf("%d refunds for a payment whose stock was there", n)
	}
}

func TestARefundStripeSaysIsDoneAlreadyIsRecorded(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 2})
	late, _ := soldOut(t, h, "15550113", "15550114")
	h.stripe.Fail(stripe.Failure{Count: 1, Status: 400, Code: "charge_already_refunded", Message: "Charge has already been refunded."})
	if res, err := h.stripe.Pay(t.Context(), late.CheckoutID, false); err != nil || res.WebhookStatus != 200 {
		t.Fatalf("pay: %v, webhook %d", err, res.WebhookStatus)
	}
	if got, _ := get(t.Context(), h.db, late.ID); got.Status != StatusRefunded {
		t.Errorf("order is %s, want refunded: the money is back", got.Status)
	}
	if n := len(h.graph.Messages("15550113")); n != 2 { // payment link, then the apology
		t.Errorf("%d messages to the customer, want 2", n)
	}
}
