package app

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wa-shop/shop/pkg/postgres"
)

func TestShipEndpoint(t *testing.T) {
	shopEnv(t)
	const (
		paid   = "5ea10000-0000-4000-8000-000000000001"
		unpaid = "5ea10000-0000-4000-8000-000000000002"
	)
	db, err := postgres.Open(t.Context(), os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(t.Context(), `
		WITH c AS (INSERT INTO customers (wa_id, profile_name) VALUES ('15550400', 'Ada') RETURNING id)
		INSERT INTO orders (id, customer_id, request_key, status, items, currency, total_minor, hold_expires_at, release_after)
		SELECT o.id::uuid, c.id, o.id, o.status,
		       '[{"sku":"TEE","title":"T-shirt","quantity":1,"unit_price_minor":1500}]', 'USD', 1500, now(), now()
		FROM c, (VALUES ($1, 'paid'), ($2, 'pending_payment')) AS o(id, status)`, paid, unpaid); err != nil {
		t.Fatal(err)
	}
	h, err := Backend(t.Context(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, id, body, auth string
		wantStatus           int
		wantBody             map[string]any // checked when set
	}{
		{"no admin key", paid, `{"tracking_ref":"1Z1"}`, "", 401, nil},
		{"a wrong admin key", paid, `{"tracking_ref":"1Z1"}`, "ord", 401, nil},
		{"a paid order", paid, `{"tracking_ref":"1Z1","carrier":"UPS"}`, "adm", 200,
			map[string]any{"order_id": paid, "fulfillment_status": "shipped", "tracking_ref": "1Z1"}},
		{"the same shipment again", paid, `{"tracking_ref":"1Z1","carrier":"UPS"}`, "adm", 200,
			map[string]any{"order_id": paid, "fulfillment_status": "shipped", "tracking_ref": "1Z1"}},
		{"another reference", paid, `{"tracking_ref":"2Z2"}`, "adm", 409, nil},
		{"an unpaid order", unpaid, `{"tracking_ref":"1Z1"}`, "adm", 409, nil},
		{"an unknown order", "5ea10000-0000-4000-8000-0000000000ff", `{"tracking_ref":"1Z1"}`, "adm", 404, nil},
		{"a malformed id", "5EA10000", `{"tracking_ref":"1Z1"}`, "adm", 400, nil},
		{"malformed JSON", unpaid, `{"tracking_ref":`, "adm", 400, nil},
		{"an unknown field", unpaid, `{"tracking":"1Z1"}`, "adm", 400, nil},
		{"no tracking reference", unpaid, `{"tracking_ref":"  "}`, "adm", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/orders/"+tt.id+"/ship", strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", "Bearer "+tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantBody == nil {
				return
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantBody, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
	var fulfilment string
	if err := db.QueryRow(t.Context(), `SELECT fulfillment_status FROM orders WHERE id = $1`, unpaid).Scan(&fulfilment); err != nil || fulfilment != "unfulfilled" {
		t.Errorf("the unpaid order is %s (%v)", fulfilment, err)
	}
}
