package main

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/testenv"
)

// Orders seeded by env. The first two share an order number on purpose.
const (
	twinA  = "abcdef01-0000-4000-8000-00000000000a"
	twinB  = "abcdef01-0000-4000-8000-00000000000b"
	coffee = "c0ffee12-0000-4000-8000-00000000000c"
	unpaid = "0badf00d-0000-4000-8000-00000000000d"
	front  = "f0f0f0f0-0000-4000-8000-00000000000e"
)

// env points the command at a fresh database holding five orders and at a
// Graph API stand-in.
func env(t *testing.T) (*pgxpool.Pool, *graph.Server) {
	t.Helper()
	pool, dbURL := testenv.DBWithURL(t)
	g := graph.New(graph.Options{AccessToken: "wa-token", PhoneNumberID: "100"})
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	for k, v := range map[string]string{
		"DATABASE_URL": dbURL, "WHATSAPP_PHONE_NUMBER_ID": "100", "WHATSAPP_ACCESS_TOKEN": "wa-token",
		"WHATSAPP_API_BASE_URL": srv.URL, "LOG_LEVEL": "warn",
		"SHIPPING_UPDATE_TEMPLATE": "shipping_update", "TEMPLATE_LANGUAGE": "en",
	} {
		t.Setenv(k, v)
	}
	_, err := pool.Exec(t.Context(), `
		WITH c AS (
			INSERT INTO customers (wa_id, profile_name) VALUES ('15550300', 'Ada'), ('guest:front-1', 'Bo')
			RETURNING id, wa_id
		)
		INSERT INTO orders (id, customer_id, request_key, status, items, currency, total_minor,
		                    hold_expires_at, release_after, paid_at)
		SELECT o.id::uuid, c.id, o.id, o.status,
		       '[{"sku":"TEE-M","title":"T-shirt","quantity":1,"unit_price_minor":1500}]', 'USD', 1500, now(), now(), now()
		FROM (VALUES ($1, 'paid', '15550300'), ($2, 'paid', '15550300'), ($3, 'paid', '15550300'),
		             ($4, 'pending_payment', '15550300'), ($5, 'paid', 'guest:front-1')) AS o(id, status, wa_id)
		JOIN c ON c.wa_id = o.wa_id`, twinA, twinB, coffee, unpaid, front)
	if err != nil {
		t.Fatal(err)
	}
	return pool, g
}

func fulfilment(t *testing.T, pool *pgxpool.Pool, id string) string {
	t.Helper()
	var f string
	if err := pool.QueryRow(t.Context(), `SELECT fulfillment_status FROM orders WHERE id = $1`, id).Scan(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestShipByOrderNumber(t *testing.T) {
	pool, g := env(t)
	var stdout, stderr bytes.Buffer
	args := []string{"-order", "C0FFEE12", "-tracking", "1Z999AA1", "-carrier", "UPS"}
	if err := run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, &stderr)
	}
	want := "Order C0FFEE12 (" + coffee + ") is shipped: tracking 1Z999AA1, carrier UPS.\n" +
		"Shipping update sent to the customer's WhatsApp …0300.\n"
	if diff := cmp.Diff(want, stdout.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if f := fulfilment(t, pool, coffee); f != "shipped" {
		t.Errorf("fulfilment %s, want shipped", f)
	}
	sent := g.Messages("15550300")
	if len(sent) != 1 {
		t.Fatalf("%d messages sent, want 1", len(sent))
	}
	if body := string(sent[0].Body); !strings.Contains(body, `"name":"shipping_update"`) || !strings.Contains(body, `"text":"1Z999AA1"`) {
		t.Errorf("sent %s", body)
	}

	// Again, by full id: nothing changes, nothing is sent.
	stdout.Reset()
	if err := run(t.Context(), []string{"-order", coffee, "-tracking", "1Z999AA1"}, &stdout, &stderr); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !strings.Contains(stdout.String(), "was already shipped with tracking 1Z999AA1 on ") ||
		!strings.Contains(stdout.String(), "nothing changed") {
		t.Errorf("second run said:\n%s", &stdout)
	}
	if n := len(g.Messages("15550300")); n != 1 {
		t.Errorf("%d messages after the second run, want 1", n)
	}
}

func TestRefusals(t *testing.T) {
	pool, g := env(t)
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-order", coffee, "-tracking", "FIRST"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantErr  error  // errors.Is, when set
		wantText string // in the error's text
	}{
		{"an ambiguous order number", []string{"-order", "ABCDEF01", "-tracking", "X"}, nil, "ambiguous"},
		{"an unknown order number", []string{"-order", "12345678", "-tracking", "X"}, orders.ErrNotFound, "12345678"},
		{"an unpaid order", []string{"-order", "0BADF00D", "-tracking", "X"}, orders.ErrNotShippable, "pending_payment"},
		{"another reference", []string{"-order", coffee, "-tracking", "SECOND"}, orders.ErrAlreadyShipped, "FIRST"},
		{"a short number", []string{"-order", "C0FFEE", "-tracking", "X"}, nil, "8-character"},
		{"no tracking", []string{"-order", coffee}, nil, "required"},
		{"a stray argument", []string{"-order", coffee, "-tracking", "X", "extra"}, nil, "nothing else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout.Reset()
			err := run(t.Context(), tt.args, &stdout, &stderr)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %v; want %v containing %q", err, tt.wantErr, tt.wantText)
			}
			if stdout.Len() != 0 {
				t.Errorf("a refused run printed:\n%s", &stdout)
			}
		})
	}
	for _, id := range []string{twinA, twinB, unpaid} {
		if f := fulfilment(t, pool, id); f != "unfulfilled" {
			t.Errorf("order %s is %s after refused runs", id, f)
		}
	}
	if n := len(g.Messages("15550300")); n != 1 {
		t.Errorf("%d messages, want the one shipping update", n)
	}
}

func TestAmbiguityListsTheMatches(t *testing.T) {
	pool, _ := env(t)
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-order", "abcdef01", "-tracking", "X"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), twinA) || !strings.Contains(err.Error(), twinB) {
		t.Fatalf("error %v; want both matches listed", err)
	}
	// The full id settles it.
	if err := run(t.Context(), []string{"-order", twinB, "-tracking", "X"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if got := fulfilment(t, pool, twinA) + "," + fulfilment(t, pool, twinB); got != "unfulfilled,shipped" {
		t.Errorf("fulfilment of the twins: %s", got)
	}
}

func TestShopFrontOrderAndWhatsAppDown(t *testing.T) {
	_, g := env(t)
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-order", "F0F0F0F0", "-tracking", "R1"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(stdout.String(), "No shipping update: the order came from the shop front, not WhatsApp.\n") {
		t.Errorf("shop-front order:\n%s", &stdout)
	}

	g.Fail(graph.Failure{Count: 1, Status: 503, Code: 2})
	stdout.Reset()
	if err := run(t.Context(), []string{"-order", twinA, "-tracking", "R2"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "is shipped") || !strings.Contains(stdout.String(), "queued, not sent yet") {
		t.Errorf("with WhatsApp down:\n%s", &stdout)
	}
}

func TestMissingConfiguration(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("WHATSAPP_ACCESS_TOKEN", "")
	t.Setenv("WHATSAPP_PHONE_NUMBER_ID", "")
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-order", coffee, "-tracking", "X"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL is required") || !strings.Contains(err.Error(), "WHATSAPP_ACCESS_TOKEN is required") {
		t.Errorf("error %v; want every missing variable named", err)
	}
}
