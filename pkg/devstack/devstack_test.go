package devstack

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The stack's whole life: start, survive restarts (as the fault tests need),
// start again from its state file, stop.
func TestStackLifecycle(t *testing.T) {
	dir := t.TempDir()
	stack := up(t, dir)
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

// A stack whose ports were taken while it was down (another stack, any
// listener) comes up on new ones instead of failing or, worse, handing out
// a URL that reaches someone else's server.
func TestUpMovesOffTakenPorts(t *testing.T) {
	dir := t.TempDir()
	stack := up(t, dir)
	if err := stack.Down(); err != nil {
		t.Fatal(err)
	}
	takenPG := occupy(t, stack.Postgres.Port)
	takenRedis := occupy(t, stack.Redis.Port)

	again, err := Up(dir)
	if err != nil {
		t.Fatalf("Up with its ports taken: %v", err)
	}
	t.Cleanup(func() { _ = again.Down() })
	if again.Postgres.Port == takenPG || again.Redis.Port == takenRedis {
		t.Fatalf("ports after Up = %d, %d; both were taken", again.Postgres.Port, again.Redis.Port)
	}
	env := again.Env()
	if got := count(t, env["DATABASE_URL"], "SELECT 1"); got != 1 {
		t.Errorf("SELECT 1 = %d", got)
	}
	rdb := redis.NewClient(mustParse(t, env["REDIS_URL"]))
	defer rdb.Close()
	if err := rdb.Ping(t.Context()).Err(); err != nil {
		t.Errorf("ping Redis on its new port: %v", err)
	}
	if loaded, err := Load(dir); err != nil || loaded.Postgres.Port != again.Postgres.Port {
		t.Errorf("stack.json after Up = %+v, %v; want the new ports saved", loaded, err)
	}
}

// occupy listens on port until the test ends, closing every connection at
// once, as a server that is not ours would answer. If something else took
// the port first, it is taken all the same.
func occupy(t *testing.T, port int) int {
	t.Helper()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Logf("port %d already taken: %v", port, err)
		return port
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return port
}

// up starts a stack in dir for the test, and stops it after.
func up(t *testing.T, dir string) *Stack {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real servers")
	}
	if _, err := postgresBinDir(); err != nil && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	stack, err := Up(dir)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	t.Cleanup(func() { _ = stack.Down() })
	return stack
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
