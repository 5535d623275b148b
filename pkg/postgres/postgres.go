// Package postgres opens the shop's connection pool and applies its schema.
package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A function instance serves one request at a time, so a few connections are
// plenty; many instances share the database, so more would exhaust it.
const defaultMaxConns = 4

// Open builds a pool without connecting: connections open lazily, on first
// use, so a cold start pays nothing for a database it may not touch.
//
// Unless the URL says otherwise (default_query_exec_mode, pool_max_conns), the
// pool uses the extended protocol without named prepared statements: it costs
// no extra round trip and, unlike pgx's default statement cache, works behind
// transaction-mode poolers (PgBouncer, Neon, Supabase), which hand each
// transaction a different server connection.
func Open(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message can quote the URL; ours names the variable only.
		return nil, fmt.Errorf("parse DATABASE_URL: malformed connection string")
	}
	if !hasParam(databaseURL, "default_query_exec_mode") {
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	if !hasParam(databaseURL, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}
