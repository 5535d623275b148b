package devstack

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The stack's whole life: start, survive restarts (as the fault tests need),
// start again from its state file, stop.
func TestStackLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	if _, err := postgresBinDir(); err != nil && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	dir := t.TempDir()
	stack, err := Up(dir)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	t.Cleanup(func() { _ = stack.Down() })
	ctx := t.Context()
	env := stack.Env()

	execSQL(t, env["DATABASE_URL"], "CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)")
	rdb := redis.NewClient(mustParse(t, env["REDIS_URL"]))
	defer rdb.Close()
	if err := rdb.Set(ctx, "lost", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}

	if err := stack.Postgres.Restart(); err != nil {
		t.Fatalf("restart Postgres: %v", err)
	}
	if err := stack.Redis.Restart(); err != nil {
		t.Fatalf("restart Redis: %v", err)
	}
	if got := count(t, env["DATABASE_URL"], "SELECT count(*) FROM kept"); got != 1 {
		t.Errorf("rows after a Postgres restart = %d, want 1", got)
	}
	if n := rdb.Exists(ctx, "lost").Val(); n != 0 {
		t.Errorf("Redis kept its data across a restart; fault tests need it empty")
	}
	if err := stack.Down(); err != nil {
		t.Fatalf("Down: %v", err)
	}
	again, err := Up(dir)
	if err != nil {
		t.Fatalf("Up again: %v", err)
	}
	if again.Env()["DATABASE_URL"] != env["DATABASE_URL"] {
		t.Errorf("Up again moved Postgres to %s from %s", again.Env()["DATABASE_URL"], env["DATABASE_URL"])
	}
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	conn := connect(t, url)
	defer conn.Close(context.Background())
	if _, err := conn.PgConn().Exec(t.Context(), sql).ReadAll(); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, url, sql string) int {
	t.Helper()
	conn := connect(t, url)
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func mustParse(t *testing.T, url string) *redis.Options {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}
