package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wa-shop/shop/migrations"
	"github.com/wa-shop/shop/pkg/postgres"
	"github.com/wa-shop/shop/pkg/schema"
)

// DB returns a pool on a fresh database holding the current schema and no
// rows, dropped when the test ends. Cloning a migrated template takes tens of
// milliseconds, so every test can have its own.
func DB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, _ := DBWithURL(t)
	return pool
}

// DBWithURL is DB plus the database's URL, for code under test that opens
// its own pool.
func DBWithURL(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := t.Context()
	adminURL := need(t, "DATABASE_URL")
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("connect to test Postgres: %v", err)
	}
	defer admin.Close(context.Background())

	template, err := ensureTemplate(ctx, admin, adminURL)
	if err != nil {
		t.Fatalf("test template database: %v", err)
	}
	name := "test_" + randomHex(8)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	dbURL := withDatabase(adminURL, name)
	pool, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		conn, err := pgx.Connect(context.Background(), adminURL)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		_, _ = conn.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return pool, dbURL
}

// ensureTemplate creates, once per schema version, a migrated database to
// clone. Test binaries of several packages race here, so an advisory lock
// orders them.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, adminURL string) (string, error) {
	name := "tpl_" + schemaHash()
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(4242)"); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(4242)")

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return name, err
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	pool, err := postgres.Open(ctx, withDatabase(adminURL, building))
	if err != nil {
		return "", err
	}
	_, err = schema.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	pool.Close()
	if err != nil {
		return "", err
	}
	// Renamed only when complete, so a crash never leaves a half-built template.
	_, err = admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name))
	return name, err
}

// schemaHash names the template after the migrations' content, so a changed
// migration gets a new template instead of a stale one.
func schemaHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(raw)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func withDatabase(databaseURL, name string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		panic(fmt.Sprintf("testenv: DATABASE_URL must be a URL: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
