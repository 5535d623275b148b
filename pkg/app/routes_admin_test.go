package app

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wa-shop/shop/pkg/inventory"
)

// The dev server serves the backend's admin endpoints: catalogue sync
// re-imports CATALOG_FEED_URL (here the demo feed, by path, as cmd/dev sets
// it) and rebuilds availability, as often as asked.
func TestRoutesServeTheAdminEndpoints(t *testing.T) {
	s := shopEnv(t)
	t.Setenv("CATALOG_FEED_URL", "../../scripts/demo-catalog.csv")
	routes, err := Routes(t.Context(), slog.New(slog.DiscardHandler), false)
	if err != nil {
		t.Fatal(err)
	}
	// The demo feed has 12 products and 22 variants; shopEnv's two SKUs are
	// not in it, so the first sync discontinues them.
	first := map[string]any{
		"ProductsInserted": 12.0, "ProductsUpdated": 0.0, "VariantsInserted": 22.0, "VariantsUpdated": 0.0,
		"VariantsDiscontinued": 2.0, "Discontinued": []any{"LAST", "TEE"},
	}
	again := map[string]any{
		"ProductsInserted": 0.0, "ProductsUpdated": 12.0, "VariantsInserted": 0.0, "VariantsUpdated": 22.0,
		"VariantsDiscontinued": 0.0, "Discontinued": nil,
	}
	tests := []struct {
		name, path, auth, body string
		wantStatus             int
		wantImport             map[string]any // checked when set
	}{
		{"sync without the admin key", "/catalog-sync", "", "", 401, nil},
		{"sync with the order key", "/catalog-sync", "ord", "", 401, nil},
		{"sync", "/catalog-sync", "adm", "", 200, first},
		{"sync again", "/catalog-sync", "adm", "", 200, again},
		{"ship without the admin key", "/orders/5ea10000-0000-4000-8000-0000000000ff/ship", "", `{"tracking_ref":"1Z1"}`, 401, nil},
		{"ship an unknown order", "/orders/5ea10000-0000-4000-8000-0000000000ff/ship", "adm", `{"tracking_ref":"1Z1"}`, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", tt.path, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", "Bearer "+tt.auth)
			}
			rec := httptest.NewRecorder()
			routes.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantImport == nil {
				return
			}
			var got struct {
				Import  map[string]any
				Rebuilt struct{ SKUs int }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("answer %q: %v", rec.Body, err)
			}
			if diff := cmp.Diff(tt.wantImport, got.Import); diff != "" {
				t.Errorf("import (-want +got):\n%s", diff)
			}
			if got.Rebuilt.SKUs == 0 {
				t.Errorf("rebuilt = %+v, want the feed's SKUs counted", got.Rebuilt)
			}
		})
	}

	// Availability follows the feed's quantities.
	got, err := inventory.New(s.rdb, time.Now).Available(t.Context(), "TSHIRT-M", "SCARF", "KEYRING")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"TSHIRT-M": 12, "SCARF": 1, "KEYRING": 0}, got); diff != "" {
		t.Errorf("availability after sync (-want +got):\n%s", diff)
	}
}

// Without a feed configured, sync says so instead of importing nothing.
func TestRoutesCatalogSyncWithoutAFeed(t *testing.T) {
	shopEnv(t)
	t.Setenv("CATALOG_FEED_URL", "")
	routes, err := Routes(t.Context(), slog.New(slog.DiscardHandler), false)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/catalog-sync", nil)
	req.Header.Set("Authorization", "Bearer adm")
	rec := httptest.NewRecorder()
	routes.ServeHTTP(rec, req)
	if rec.Code != 409 {
		t.Errorf("status = %d, want 409 (%s)", rec.Code, rec.Body)
	}
}
