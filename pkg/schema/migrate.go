// Package schema applies the shop's migrations. It is apart from
// pkg/postgres so the functions, which never migrate, do not carry goose and
// its dependencies.
package schema

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/wa-shop/shop/migrations"
)

// Migrate applies every pending migration and reports what it applied. It is
// safe to run twice and from several processes at once: goose records applied
// versions, and a lock row (not a session advisory lock, which a
// transaction-mode pooler would break) keeps concurrent runs apart.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) ([]int64, error) {
	locker, err := lock.NewPostgresTableLocker(
		lock.WithTableLockTimeout(250*time.Millisecond, 1200), // up to 5 min, polling briskly
		lock.WithTableLogger(log),
	)
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithLocker(locker), goose.WithSlog(log))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}
