package testenv

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/redis/go-redis/v9"
)

// The private Redis runs with 64 databases; 0 holds the allocation counter.
const redisDatabases = 64

// Redis returns a client on an emptied database of its own, so tests and
// packages running at once do not see each other's keys.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	client, _ := RedisWithURL(t)
	return client
}

// RedisWithURL is Redis plus the database's URL.
func RedisWithURL(t testing.TB) (*redis.Client, string) {
	t.Helper()
	ctx := t.Context()
	opts, err := redis.ParseURL(need(t, "REDIS_URL"))
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	counter := redis.NewClient(opts)
	n, err := counter.Incr(ctx, "testenv:next_db").Result()
	counter.Close()
	if err != nil {
		t.Fatalf("test Redis: %v", err)
	}
	opts.DB = int(n%(redisDatabases-1)) + 1
	client := redis.NewClient(opts)
	if err := client.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flush test Redis database: %v", err)
	}
	t.Cleanup(func() {
		client.FlushDB(context.Background())
		client.Close()
	})
	u, err := url.Parse(need(t, "REDIS_URL"))
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	u.Path = fmt.Sprintf("/%d", opts.DB)
	return client, u.String()
}
