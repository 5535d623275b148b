package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/wa-shop/shop/pkg/cleanup"
	"github.com/wa-shop/shop/pkg/testenv"
)

// setEnv points the command at a fresh database and Redis database holding
// one SKU; Stripe and WhatsApp are never called by these runs (no order).
func setEnv(t *testing.T) (dbURL, redisURL string) {
	db, dbURL := testenv.DBWithURL(t)
	_, redisURL = testenv.RedisWithURL(t)
	for _, sql := range []string{
		`INSERT INTO products (id, item_group_id, title, price_minor, currency)
			VALUES ('00000000-0000-0000-0000-00000000000a', 'TEE', 'T-shirt', 1500, 'USD')`,
		`INSERT INTO variants (product_id, sku, title, stock_on_hand) VALUES ('00000000-0000-0000-0000-00000000000a', 'TEE-M', 'M', 7)`,
	} {
		if _, err := db.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "STRIPE_SECRET": "sk_test_cmd",
		"STRIPE_API_BASE_URL": "http://127.0.0.1:1", "WHATSAPP_PHONE_NUMBER_ID": "100",
		"WHATSAPP_ACCESS_TOKEN": "wa", "WHATSAPP_API_BASE_URL": "http://127.0.0.1:1", "LOG_LEVEL": "error",
	} {
		t.Setenv(k, v)
	}
	return dbURL, redisURL
}

func TestDryRunReportsAndChangesNothing(t *testing.T) {
	setEnv(t)
	var out, logs bytes.Buffer
	if err := run(t.Context(), []string{"-dry-run", "-json"}, &out, &logs); err != nil {
		t.Fatalf("run: %v\n%s", err, logs.String())
	}
	var rep cleanup.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	if !rep.DryRun || !rep.Reconcile.NeedsRebuild || rep.Reconcile.Rebuilt {
		t.Errorf("dry run report = %+v; want it to see Redis needs a rebuild, and not do it", rep)
	}
	// Redis stays empty: a real run is what rebuilds it.
	t.Setenv("LOG_LEVEL", "info")
	out.Reset()
	if err := run(t.Context(), nil, &out, &logs); err != nil {
		t.Fatalf("run: %v\n%s", err, logs.String())
	}
	if !strings.Contains(out.String(), "rebuilt 1 SKUs and 0 holds") {
		t.Errorf("output:\n%s", out.String())
	}
	if !strings.Contains(logs.String(), `"msg":"cleanup run"`) {
		t.Errorf("no run log line on stderr:\n%s", logs.String())
	}
}

func TestTheRunIsReportedInWords(t *testing.T) {
	setEnv(t)
	var out, logs bytes.Buffer
	for range 2 { // the first rebuilds, the second reconciles
		out.Reset()
		if err := run(t.Context(), nil, &out, &logs); err != nil {
			t.Fatalf("run: %v\n%s", err, logs.String())
		}
	}
	for _, want := range []string{"Lapsed holds: 0 expired", "Outbox: 0 sent", "Reconcile: 1 SKUs checked, 0 drifted",
		"Delivery records older than 8 days: 0 WhatsApp messages and 0 Stripe events deleted.", "Took "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUnreachableStoresFail(t *testing.T) {
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	tests := []struct{ name, variable, url, want string }{
		{"postgres", "DATABASE_URL", "postgres://shop@%s/shop?sslmode=disable&connect_timeout=1", "postgres unreachable"},
		{"redis", "REDIS_URL", "redis://%s/0", "redis unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t)
			t.Setenv(tt.variable, fmt.Sprintf(tt.url, closed()))
			var out, logs bytes.Buffer
			err := run(t.Context(), []string{"-dry-run"}, &out, &logs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBadUsage(t *testing.T) {
	var out, logs bytes.Buffer
	for _, args := range [][]string{{"extra"}, {"-timeout", "0s"}, {"-nope"}} {
		if err := run(t.Context(), args, &out, &logs); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
