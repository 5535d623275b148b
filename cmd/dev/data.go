package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/catalog"
	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/postgres"
	"github.com/wa-shop/shop/pkg/schema"
)

const demoFeed = "scripts/demo-catalog.csv"

// prepareData migrates, imports the demo catalogue into an empty shop (a
// shop with products keeps them, and their stock) and rebuilds Redis.
func prepareData(ctx context.Context, log *slog.Logger, stdout io.Writer) error {
	pool, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := schema.Migrate(ctx, pool, log); err != nil {
		return err
	}
	var products int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM products").Scan(&products); err != nil {
		return err
	}
	if products == 0 {
		if err := importDemo(ctx, pool, stdout); err != nil {
			return err
		}
	}
	opts, err := redis.ParseURL(os.Getenv("REDIS_URL"))
	if err != nil {
		return fmt.Errorf("REDIS_URL is not a valid Redis URL")
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	rebuilt, err := inventory.Rebuild(ctx, pool, rdb)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "availability rebuilt in Redis: %d SKUs, %d holds\n", rebuilt.SKUs, rebuilt.Holds)
	return nil
}

func importDemo(ctx context.Context, pool *pgxpool.Pool, stdout io.Writer) error {
	f, err := os.Open(demoFeed)
	if err != nil {
		return err
	}
	defer f.Close()
	products, err := catalog.Parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", demoFeed, err)
	}
	res, err := catalog.Import(ctx, pool, products)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo catalogue imported: %d products, %d variants\n",
		res.ProductsInserted+res.ProductsUpdated, res.VariantsInserted+res.VariantsUpdated)
	return nil
}
