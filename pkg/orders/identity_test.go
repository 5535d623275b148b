package orders

import (
	"testing"
)

// A customer whose notice of a new number comes after they already wrote
// from it: the row of the new number takes over their past orders, the
// unpaid order of the old number is cancelled (the new one has its own, and
// a customer has one) and follows, and messages queued for the old number
// go to the new one. Applying the notice again changes nothing.
func TestChangeIdentityMergesIntoAnExistingRow(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 10})
	ctx := t.Context()
	paid, err := h.svc.Create(ctx, h.request("m:1", "15550001", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, h.db, `UPDATE orders SET status = 'paid', stock_committed = true WHERE id = $1`, paid.ID)
	unpaidOld, err := h.svc.Create(ctx, h.request("m:2", "15550001", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	unpaidNew, err := h.svc.Create(ctx, h.request("m:3", "15550002", Line{"TEE-M", 1}))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, h.db, `INSERT INTO outbox (kind, recipient, payload) VALUES ('note', '15550001', '{}')`)

	change := IdentityChange{OldWaID: "15550001", NewWaID: "15550002"}
	for range 2 {
		if err := h.svc.ChangeIdentity(ctx, change); err != nil {
			t.Fatal(err)
		}
	}
	owner := func(id any) string {
		var wa string
		if err := h.db.QueryRow(ctx, `SELECT c.wa_id FROM orders o JOIN customers c ON c.id = o.customer_id
			WHERE o.id = $1`, id).Scan(&wa); err != nil {
			t.Fatal(err)
		}
		return wa
	}
	queued := h.count(t, `SELECT count(*) FROM outbox WHERE recipient = '15550001' AND status = 'pending'`)
	if owner(paid.ID) != "15550002" || owner(unpaidOld.ID) != "15550002" || owner(unpaidNew.ID) != "15550002" || queued != 0 {
		t.Errorf("paid order with %s, old unpaid with %s, new unpaid with %s, %d messages still for the old number;"+
			" want 15550002 for all, 0", owner(paid.ID), owner(unpaidOld.ID), owner(unpaidNew.ID), queued)
	}
	old, _ := get(ctx, h.db, unpaidOld.ID)
	kept, _ := get(ctx, h.db, unpaidNew.ID)
	if old.Status != StatusCancelled || kept.Status != StatusPendingPayment || h.available(t, "TEE-M") != 8 {
		t.Errorf("old unpaid %s, new unpaid %s, %d available; want cancelled, pending_payment, 8",
			old.Status, kept.Status, h.available(t, "TEE-M"))
	}
	for _, sess := range h.stripe.Sessions() {
		if want := map[bool]string{true: "expired", false: "open"}[sess.ID == unpaidOld.CheckoutID]; sess.Status != want && sess.ID != paid.CheckoutID {
			t.Errorf("session %s is %s, want %s", sess.ID, sess.Status, want)
		}
	}
}

// A new BSUID reaches the phone-number customer who had the old one, and
// nobody else.
func TestChangeIdentityUpdatesTheBSUIDOfThatCustomerOnly(t *testing.T) {
	h := newHarness(t, nil)
	exec(t, h.db, `INSERT INTO customers (wa_id, user_id, profile_name) VALUES
		('15550001', 'US.old', 'Ada'), ('15550009', 'US.other', 'Bo')`)
	if err := h.svc.ChangeIdentity(t.Context(), IdentityChange{OldUserID: "US.old", NewUserID: "US.new"}); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := h.db.QueryRow(t.Context(), `SELECT string_agg(wa_id || '=' || user_id, ' ' ORDER BY wa_id) FROM customers`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "15550001=US.new 15550009=US.other"; got != want {
		t.Errorf("customers %q, want %q", got, want)
	}
}
