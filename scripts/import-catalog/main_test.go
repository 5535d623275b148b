package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/testenv"
)

const demoFeed = "../demo-catalog.csv"

// env points the command at a fresh database and Redis database.
func env(t *testing.T) (*pgxpool.Pool, *redis.Client) {
	t.Helper()
	pool, dbURL := testenv.DBWithURL(t)
	rdb, redisURL := testenv.RedisWithURL(t)
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("REDIS_URL", redisURL)
	t.Setenv("CATALOG_FEED_URL", "")
	t.Setenv("LOG_LEVEL", "warn")
	return pool, rdb
}

func count(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportDemoFeed(t *testing.T) {
	pool, rdb := env(t)
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{demoFeed}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, &stderr)
	}
	want := "Feed ../demo-catalog.csv: 12 products, 22 variants.\n" +
		"Products: 12 inserted, 0 updated.\n" +
		"Variants: 22 inserted, 0 updated, 0 discontinued.\n" +
		"Availability rebuilt in Redis: 22 SKUs, 0 holds.\n"
	if diff := cmp.Diff(want, stdout.String()); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	got := map[string]string{
		"TSHIRT-M": rdb.Get(t.Context(), inventory.StockKey("TSHIRT-M")).Val(),
		"KEYRING":  rdb.Get(t.Context(), inventory.StockKey("KEYRING")).Val(),
	}
	if diff := cmp.Diff(map[string]string{"TSHIRT-M": "12", "KEYRING": "0"}, got); diff != "" {
		t.Errorf("Redis availability (-want +got):\n%s", diff)
	}
	if rdb.Exists(t.Context(), inventory.EpochKey).Val() != 1 {
		t.Error("rebuild left no epoch marker")
	}

	// Again: the schema is migrated already and every row is an update.
	stdout.Reset()
	if err := run(t.Context(), []string{demoFeed}, &stdout, &stderr); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !strings.Contains(stdout.String(), "Products: 0 inserted, 12 updated.\nVariants: 0 inserted, 22 updated, 0 discontinued.\n") {
		t.Errorf("second run summary:\n%s", &stdout)
	}
	if n := count(t, pool, "variants"); n != 22 {
		t.Errorf("%d variants after two runs, want 22", n)
	}
}

func TestMalformedFeedImportsNothing(t *testing.T) {
	pool, rdb := env(t)
	feed := filepath.Join(t.TempDir(), "feed.csv")
	const body = "id,title,description,availability,condition,price,link,image_link,quantity_to_sell_on_facebook\n" +
		"MUG,Mug,\"Stoneware, 12 oz\",in stock,new,14.00 USD,https://shop.example.com/mug,https://shop.example.com/mug.jpg,3\n" +
		"CAP,Cap,Twill,in stock,new,22 dollars,https://shop.example.com/cap,https://shop.example.com/cap.jpg,many\n"
	if err := os.WriteFile(feed, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{feed}, &stdout, &stderr)
	if err == nil || err.Error() != "feed has 2 errors; nothing was imported" {
		t.Fatalf("run = %v, want the feed refused", err)
	}
	for _, want := range []string{
		"  line 3, price: \"dollars\" is not an ISO 4217 currency code\n",
		"  line 3, quantity_to_sell_on_facebook: \"many\" is not a whole number of items (0 or more)\n",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, &stderr)
		}
	}
	if n := count(t, pool, "products"); n != 0 {
		t.Errorf("%d products imported from a malformed feed, want 0", n)
	}
	if rdb.Exists(t.Context(), inventory.EpochKey).Val() != 0 {
		t.Error("Redis was rebuilt for a refused feed")
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	pool, rdb := env(t)
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-dry-run", demoFeed}, &stdout, &stderr); err != nil {
		t.Fatalf("run -dry-run: %v\n%s", err, &stderr)
	}
	if !strings.Contains(stdout.String(), "Dry run: nothing was changed. An import would do this:\nProducts: 12 inserted, 0 updated.\n") {
		t.Errorf("dry run summary:\n%s", &stdout)
	}
	if n := count(t, pool, "products"); n != 0 {
		t.Errorf("dry run left %d products, want 0", n)
	}
	if rdb.Exists(t.Context(), inventory.EpochKey).Val() != 0 {
		t.Error("dry run touched Redis")
	}
}

func TestFeedFromURL(t *testing.T) {
	pool, _ := env(t)
	demo, err := os.ReadFile(demoFeed)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "s3cret" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Write(demo)
	}))
	defer srv.Close()

	tests := []struct {
		name    string
		feedURL string
		wantErr string
	}{
		{"CATALOG_FEED_URL", srv.URL + "/feed.csv?token=s3cret", ""},
		{"refused download", srv.URL + "/feed.csv?token=wrong", "fetch catalogue feed " + srv.URL + "/feed.csv: 403 Forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CATALOG_FEED_URL", tt.feedURL)
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), nil, &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("run = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v\n%s", err, &stderr)
			}
			if strings.Contains(stdout.String()+stderr.String(), "s3cret") {
				t.Errorf("output shows the feed URL's token:\n%s\n%s", &stdout, &stderr)
			}
			if n := count(t, pool, "products"); n != 12 {
				t.Errorf("%d products imported, want 12", n)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	env(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no feed anywhere", nil, "no feed: name a file or URL, or set CATALOG_FEED_URL"},
		{"two feeds", []string{"a.csv", "b.csv"}, "name one feed at most"},
		{"missing file", []string{"no-such-feed.csv"}, "open catalogue feed: open no-such-feed.csv: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), tt.args, &stdout, &stderr); err == nil || err.Error() != tt.want {
				t.Errorf("run(%q) = %v, want %q", tt.args, err, tt.want)
			}
		})
	}
}
