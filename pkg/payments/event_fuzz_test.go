package payments

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stripe/stripe-go/v79"
)

// Stripe events as webhook endpoints receive them: session events with
// payment_intent as an id or expanded, a refund, an event the shop ignores,
// and the odd shapes a signed body could still have.
var eventSeeds = []string{
	`{"id":"evt_1","object":"event","api_version":"2024-06-20","created":1795800000,"type":"checkout.session.completed",
	  "data":{"object":{"id":"cs_test_1","object":"checkout.session","client_reference_id":"3f1c2a9e-8a4b-4c55-9d2e-1b7f0c6d5e4a",
	  "metadata":{"order_id":"3f1c2a9e-8a4b-4c55-9d2e-1b7f0c6d5e4a"},"payment_status":"paid","payment_intent":"pi_1",
	  "amount_total":3000,"currency":"usd"}}}`,
	`{"id":"evt_2","type":"checkout.session.async_payment_succeeded","created":1,
	  "data":{"object":{"id":"cs_2","metadata":{"order_id":"o-2"},"payment_status":"paid","payment_intent":{"id":"pi_2","object":"payment_intent"}}}}`,
	`{"id":"evt_3","type":"checkout.session.expired","data":{"object":{"id":"cs_3","payment_intent":null,"amount_total":-1}}}`,
	`{"id":"evt_4","type":"charge.refunded","created":1795800000,
	  "data":{"object":{"id":"ch_4","object":"charge","payment_intent":"pi_4","amount":3000,"amount_refunded":1500}}}`,
	`{"id":"evt_5","type":"charge.refunded","data":{"object":{"payment_intent":{"id":"pi_5"},"amount":1,"amount_refunded":1}}}`,
	`{"id":"evt_6","type":"customer.created","data":{"object":{"id":"cus_6"}}}`,
	`{"id":"evt_7","type":"checkout.session.completed","data":{"object":null}}`,
	`{"id":"evt_8","type":"checkout.session.completed"}`,
	`{"id":"evt_9","type":"checkout.session.completed","data":{"object":{"amount_total":"3000","payment_intent":7}}}`,
	`{"ID":"evt_10","TYPE":"checkout.session.async_payment_failed","data":{"object":{"Client_Reference_ID":"o-10","id":"cs_10","id":"cs_10b"}}}`,
}

// FuzzReadEvent feeds readEvent every event body Stripe could sign. It must
// not panic; it refuses only events without data; and what it reads must be
// all there is to read: written back in Stripe's shape (payment_intent as an
// id or expanded, the order id as client_reference_id or in metadata), the
// event reads the same again.
func FuzzReadEvent(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var se stripe.Event
		if json.Unmarshal(body, &se) != nil {
			return // ConstructEvent refuses it: the callback answers 400
		}
		e, err := readEvent(se)
		if se.Data == nil {
			if err == nil {
				t.Fatalf("readEvent of an event without data = %+v, want an error", e)
			}
			return
		}
		if err != nil {
			return // signed but unreadable: acknowledged and logged
		}
		if e.ID != se.ID || e.Type != string(se.Type) || e.Created.Unix() != se.Created {
			t.Fatalf("readEvent = %q %q %v, want the event's %q %q %d", e.ID, e.Type, e.Created, se.ID, se.Type, se.Created)
		}
		if e.Type == EventChargeRefunded {
			if e.SessionID != "" || e.PaymentStatus != "" || e.AmountTotal != 0 || e.Currency != "" {
				t.Fatalf("a charge read as a session: %+v", e)
			}
		} else if e.ChargeAmount != 0 || e.AmountRefunded != 0 {
			t.Fatalf("a session read as a charge: %+v", e)
		}
		for _, shape := range []shape{{}, {expandPI: true}, {orderInMetadata: true}, {expandPI: true, orderInMetadata: true}} {
			again, err := readEvent(shape.event(t, e))
			if err != nil {
				t.Fatalf("%+v written back as %+v does not read: %v", e, shape, err)
			}
			if diff := cmp.Diff(e, again); diff != "" {
				t.Fatalf("written back as %+v, the event reads otherwise (-first +again):\n%s", shape, diff)
			}
		}
	})
}

// shape is one of the ways Stripe may write the same event.
type shape struct{ expandPI, orderInMetadata bool }

// event writes e as Stripe would and parses it as ConstructEvent does.
func (s shape) event(t *testing.T, e Event) stripe.Event {
	t.Helper()
	var pi any = e.PaymentIntentID
	if s.expandPI {
		pi = map[string]any{"id": e.PaymentIntentID, "object": "payment_intent"}
	}
	var object map[string]any
	if e.Type == EventChargeRefunded {
		object = map[string]any{"object": "charge", "payment_intent": pi, "amount": e.ChargeAmount, "amount_refunded": e.AmountRefunded}
		if e.OrderID != "" {
			object["metadata"] = map[string]string{"order_id": e.OrderID}
		}
	} else {
		object = map[string]any{"id": e.SessionID, "object": "checkout.session", "payment_status": e.PaymentStatus,
			"payment_intent": pi, "amount_total": e.AmountTotal, "currency": e.Currency,
			"client_reference_id": e.OrderID}
		if s.orderInMetadata {
			object["client_reference_id"] = nil
			object["metadata"] = map[string]string{"order_id": e.OrderID}
		}
	}
	body, err := json.Marshal(map[string]any{"id": e.ID, "object": "event", "type": e.Type, "created": e.Created.Unix(),
		"data": map[string]any{"object": object}})
	if err != nil {
		t.Fatal(err)
	}
	var se stripe.Event
	if err := json.Unmarshal(body, &se); err != nil {
		t.Fatalf("the event written back does not parse: %v\n%s", err, body)
	}
	return se
}
