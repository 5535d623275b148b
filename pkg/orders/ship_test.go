package orders

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/wa-shop/shop/pkg/standin/graph"
)

// paidToShip makes an order for one TEE-M and pays it; waID "" makes a
// shop-front order.
func paidToShip(t *testing.T, h *harness, key, waID string) *Order {
	t.Helper()
	h.svc.Templates.Shipping = "shipping_update"
	o, err := h.svc.Create(t.Context(), h.request(key, waID, Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.stripe.Pay(t.Context(), o.CheckoutID, false)
	if err != nil || res.WebhookStatus != 200 {
		t.Fatalf("pay: %v, webhook answered %d %s", err, res.WebhookStatus, res.WebhookError)
	}
	return o
}

// shippingParams reads the body parameters of the templates named name that
// were sent to a customer.
func shippingParams(t *testing.T, h *harness, to, name string) [][]string {
	t.Helper()
	var out [][]string
	for _, m := range h.graph.Messages(to) {
		var send struct {
			Template struct {
				Name       string `json:"name"`
				Components []struct {
					Type       string `json:"type"`
					Parameters []struct {
						Text string `json:"text"`
					} `json:"parameters"`
				} `json:"components"`
			} `json:"template"`
		}
		if err := json.Unmarshal(m.Body, &send); err != nil {
			t.Fatal(err)
		}
		if send.Template.Name != name {
			continue
		}
		var params []string
		for _, c := range send.Template.Components {
			for _, p := range c.Parameters {
				params = append(params, p.Text)
			}
		}
		out = append(out, params)
	}
	return out
}

func TestMarkShippedSendsOneShippingUpdate(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o := paidToShip(t, h, "wa:ship", "15550200")

	got, err := h.svc.MarkShipped(t.Context(), o.ID, " 1Z 999\tAA1 ", "UPS")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != o.ID || got.Status != StatusPaid {
		t.Errorf("returned order %s (%s), want %s (paid)", got.ID, got.Status, o.ID)
	}
	sh, err := h.svc.Shipment(t.Context(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := Shipment{OrderID: o.ID, Status: StatusPaid, Fulfilment: FulfilmentShipped,
		TrackingRef: "1Z 999 AA1", Carrier: "UPS", ShippedAt: t0}
	if diff := cmp.Diff(want, sh); diff != "" {
		t.Errorf("shipment (-want +got):\n%s", diff)
	}
	var meta string
	if err := h.db.QueryRow(t.Context(), `SELECT metadata->'shipment'->>'tracking_ref' FROM orders WHERE id = $1`, o.ID).Scan(&meta); err != nil || meta != "1Z 999 AA1" {
		t.Errorf("metadata tracking_ref %q (%v)", meta, err)
	}
	wantSent := [][]string{{"Ada", ShortID(o.ID.String()), "UPS", "1Z 999 AA1"}}
	if diff := cmp.Diff(wantSent, shippingParams(t, h, "15550200", "shipping_update")); diff != "" {
		t.Errorf("shipping updates sent (-want +got):\n%s", diff)
	}

	// The same shipment again (a retried request): nothing changes.
	if _, err := h.svc.MarkShipped(t.Context(), o.ID, "1Z 999 AA1", "UPS"); err != nil {
		t.Errorf("same reference again: %v", err)
	}
	// Another reference is refused.
	if _, err := h.svc.MarkShipped(t.Context(), o.ID, "OTHER-REF", "DHL"); !errors.Is(err, ErrAlreadyShipped) {
		t.Errorf("another reference: %v, want ErrAlreadyShipped", err)
	}
	if n := countTemplates(h, "15550200", "shipping_update"); n != 1 {
		t.Errorf("%d shipping updates at the Graph API, want 1", n)
	}
	if n := h.count(t, `SELECT count(*) FROM outbox WHERE order_id = $1 AND kind = 'shipping_update'`, o.ID); n != 1 {
		t.Errorf("%d shipping_update rows in the outbox, want 1", n)
	}
	if sh2, _ := h.svc.Shipment(t.Context(), o.ID); sh2 != sh {
		t.Errorf("shipment changed by refused calls: %+v", sh2)
	}
}

func TestMarkShippedRefuses(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	h.svc.Templates.Shipping = "shipping_update"
	unpaid, err := h.svc.Create(t.Context(), h.request("wa:unpaid", "15550201", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	paid := paidToShip(t, h, "wa:paid", "15550202")
	tests := []struct {
		name    string
		id      uuid.UUID
		ref     string
		carrier string
		want    error
	}{
		{"an unpaid order", unpaid.ID, "REF", "UPS", ErrNotShippable},
		{"an unknown order", uuid.New(), "REF", "UPS", ErrNotFound},
		{"no tracking reference", paid.ID, " \n ", "UPS", ErrInvalid},
		{"an overlong reference", paid.ID, fmt.Sprintf("%0101d", 1), "UPS", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := h.svc.MarkShipped(t.Context(), tt.id, tt.ref, tt.carrier)
			if !errors.Is(err, tt.want) || o != nil {
				t.Errorf("got %v, %v; want %v", o, err, tt.want)
			}
		})
	}
	if n := h.count(t, `SELECT count(*) FROM orders WHERE fulfillment_status <> 'unfulfilled'`); n != 0 {
		t.Errorf("%d orders are no longer unfulfilled", n)
	}
	if n := h.count(t, `SELECT count(*) FROM outbox WHERE kind = 'shipping_update'`); n != 0 {
		t.Errorf("%d shipping updates queued by refused calls", n)
	}
}

// Many operators (or retries) at once: one shipment wins, it is told once,
// and only copies carrying the winner's reference succeed.
func TestMarkShippedConcurrently(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o := paidToShip(t, h, "wa:race", "15550203")
	refs := make([]string, 12)
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for i := range refs {
		refs[i] = fmt.Sprintf("REF-%d", i%3)
		wg.Go(func() { _, errs[i] = h.svc.MarkShipped(t.Context(), o.ID, refs[i], "UPS") })
	}
	wg.Wait()
	sh, err := h.svc.Shipment(t.Context(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		switch {
		case refs[i] == sh.TrackingRef && err != nil:
			t.Errorf("copy %d with the winning reference: %v", i, err)
		case refs[i] != sh.TrackingRef && !errors.Is(err, ErrAlreadyShipped):
			t.Errorf("copy %d with reference %s: %v, want ErrAlreadyShipped", i, refs[i], err)
		}
	}
	if n := countTemplates(h, "15550203", "shipping_update"); n != 1 {
		t.Errorf("%d shipping updates sent, want 1", n)
	}
}

// The shipment commits even when WhatsApp is down; the update waits in the
// outbox for cleanup's retry.
func TestMarkShippedWhileTheGraphAPIFails(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o := paidToShip(t, h, "wa:down", "15550204")
	h.graph.Fail(graph.Failure{Count: 1, Status: 503, Code: 2})
	if _, err := h.svc.MarkShipped(t.Context(), o.ID, "REF-1", ""); err != nil {
		t.Fatal(err)
	}
	var status string
	var attempts int
	if err := h.db.QueryRow(t.Context(), `SELECT status, attempts FROM outbox WHERE order_id = $1 AND kind = 'shipping_update'`, o.ID).
		Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != "pending" || attempts != 1 {
		t.Errorf("outbox row %s after %d attempts, want pending after 1", status, attempts)
	}
	if sh, _ := h.svc.Shipment(t.Context(), o.ID); sh.Fulfilment != FulfilmentShipped {
		t.Errorf("fulfilment %s, want shipped", sh.Fulfilment)
	}
}

func TestShopFrontOrderShipsWithoutAMessage(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o := paidToShip(t, h, "front:1", "")
	if _, err := h.svc.MarkShipped(t.Context(), o.ID, "REF-9", "DHL"); err != nil {
		t.Fatal(err)
	}
	if n := h.count(t, `SELECT count(*) FROM outbox WHERE order_id = $1`, o.ID); n != 0 {
		t.Errorf("%d messages queued for a customer without WhatsApp", n)
	}
}

func TestMarkDelivered(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5})
	o := paidToShip(t, h, "wa:deliver", "15550205")
	if _, err := h.svc.MarkDelivered(t.Context(), o.ID); !errors.Is(err, ErrNotShipped) {
		t.Errorf("delivering an unshipped order: %v, want ErrNotShipped", err)
	}
	if _, err := h.svc.MarkShipped(t.Context(), o.ID, "REF-1", "UPS"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(48 * time.Hour)
	for range 2 { // the second time is a no-op
		if _, err := h.svc.MarkDelivered(t.Context(), o.ID); err != nil {
			t.Fatal(err)
		}
	}
	sh, err := h.svc.Shipment(t.Context(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := Shipment{OrderID: o.ID, Status: StatusPaid, Fulfilment: FulfilmentDelivered,
		TrackingRef: "REF-1", Carrier: "UPS", ShippedAt: t0, DeliveredAt: t0.Add(48 * time.Hour)}
	if diff := cmp.Diff(want, sh); diff != "" {
		t.Errorf("shipment (-want +got):\n%s", diff)
	}
	// Shipping a delivered order: forward only.
	if _, err := h.svc.MarkShipped(t.Context(), o.ID, "REF-1", "UPS"); err != nil {
		t.Errorf("the same shipment again: %v", err)
	}
	if _, err := h.svc.MarkShipped(t.Context(), o.ID, "REF-2", "UPS"); !errors.Is(err, ErrAlreadyShipped) {
		t.Errorf("another shipment: %v, want ErrAlreadyShipped", err)
	}
	if _, err := h.svc.MarkDelivered(t.Context(), uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown order: %v, want ErrNotFound", err)
	}
	if n := len(h.graph.Messages("15550205")); n != 3 { // payment link, confirmation, shipping update
		t.Errorf("%d messages to the customer, want 3", n)
	}
}
