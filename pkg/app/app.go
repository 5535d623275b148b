// Package app wires endpoints from the environment. The Lambda mains, the
// dedicated backend, the dev server and the tests all build handlers here, so
// they run the very same code.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/lambdahttp"
	"github.com/wa-shop/shop/pkg/postgres"
)

// Builder makes one endpoint from the environment, reading only the
// variables it uses.
type Builder func(ctx context.Context, log *slog.Logger) (http.Handler, error)

// NewLogger logs JSON lines to stdout, where Netlify collects them.
func NewLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// Lambda is a function main: build once per cold start, then serve events.
// A configuration error ends the process with one line naming every bad
// variable, which Netlify shows as the function's init error.
func Lambda(build Builder) {
	var logging config.Logging
	level := slog.LevelInfo
	if err := config.Load(&logging); err == nil {
		level = logging.SlogLevel()
	}
	log := NewLogger(level)
	h, err := build(context.Background(), log)
	if err != nil {
		log.Error("cannot start", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambdahttp.Start(h)
}

// openStores builds the Postgres pool and Redis client; neither connects
// until first used, so a cold start does not wait on them.
func openStores(ctx context.Context, db config.Database, rds config.Redis) (*pgxpool.Pool, *redis.Client, error) {
	pool, err := postgres.Open(ctx, db.URL)
	if err != nil {
		return nil, nil, err
	}
	opts, err := redis.ParseURL(rds.URL)
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("parse REDIS_URL: malformed URL")
	}
	// One request at a time per instance: a few connections suffice, and
	// short timeouts turn an unreachable Redis into a quick 5xx and a retry.
	opts.PoolSize = 4
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 2 * time.Second
	opts.WriteTimeout = 2 * time.Second
	return pool, redis.NewClient(opts), nil
}
