package orders

import (
	"strings"
	"testing"
	"time"

	"github.com/wa-shop/shop/pkg/standin/graph"
)

// Outside WhatsApp's 24-hour window Meta refuses text (131047); a notice
// with a configured template goes out as the template instead, one whose
// template is not configured fails with the reason recorded.
func TestNoticesOutsideTheWindowGoAsTemplates(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 3})
	h.svc.Templates.ExpiryNotice = "reservation_expired"
	o, err := h.svc.Create(t.Context(), h.request("wa:win", "15550107", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(25 * time.Hour) // the customer has been silent since
	h.graph.Fail(graph.Failure{Count: 1, Status: 400, Code: 131047})
	if res, err := h.stripe.ExpireSession(t.Context(), o.CheckoutID); err != nil || res.WebhookStatus != 200 {
		t.Fatalf("expire: %v, webhook %d", err, res.WebhookStatus)
	}
	msgs := h.graph.Messages("15550107")
	if len(msgs) != 2 || !strings.Contains(string(msgs[1].Body), `"name":"reservation_expired"`) ||
		!strings.Contains(string(msgs[1].Body), ShortID(o.ID.String())) {
		t.Fatalf("customer messages: %d, last %s", len(msgs), msgs[len(msgs)-1].Body)
	}
	if n := h.count(t, `SELECT count(*) FROM outbox WHERE order_id = $1 AND kind = $2 AND status = 'sent'`, o.ID, KindExpiryNotice); n != 1 {
		t.Errorf("%d expiry notices recorded as sent, want 1", n)
	}

	// No template configured for the payment link: the refusal is final.
	h.graph.Fail(graph.Failure{Count: 1, Status: 400, Code: 131047})
	o2, err := h.svc.Create(t.Context(), h.request("wa:win2", "15550107", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	var status, reason string
	if err := h.db.QueryRow(t.Context(), `SELECT status, last_error FROM outbox WHERE order_id = $1 AND kind = $2`,
		o2.ID, KindPaymentLink).Scan(&status, &reason); err != nil || status != "failed" || !strings.Contains(reason, "131047") {
		t.Errorf("payment link: %s %q %v, want failed with 131047", status, reason, err)
	}
}
