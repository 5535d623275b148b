package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/inventory"
)

// Sync imports the feed at source (a path or URL) and rebuilds availability
// in Redis, as the import command and the backend's /catalog-sync do.
func Sync(ctx context.Context, pool *pgxpool.Pool, rdb redis.UniversalClient, source string) (Result, inventory.RebuildResult, error) {
	rc, err := Load(ctx, source)
	if err != nil {
		return Result{}, inventory.RebuildResult{}, err
	}
	defer rc.Close()
	products, err := Parse(rc)
	if err != nil {
		return Result{}, inventory.RebuildResult{}, err
	}
	// Without Redis the import would leave availability counting the old
	// stock until someone rebuilds it: refuse before writing anything.
	if err := rdb.Ping(ctx).Err(); err != nil {
		return Result{}, inventory.RebuildResult{}, fmt.Errorf("redis is unreachable; nothing was imported: %w", err)
	}
	res, err := Import(ctx, pool, products)
	if err != nil {
		return Result{}, inventory.RebuildResult{}, err
	}
	rebuilt, err := inventory.Rebuild(ctx, pool, rdb)
	if err != nil {
		return res, rebuilt, fmt.Errorf("the catalogue was imported, but rebuilding availability failed; sync again: %w", err)
	}
	return res, rebuilt, nil
}
