// Command import-catalog loads the shop's catalogue from a Meta catalogue
// data feed (CSV) into Postgres, then rebuilds stock availability in Redis
// from it.
//
//	go run ./scripts/import-catalog [-dry-run] [FILE_OR_URL]
//
// Without an argument it reads CATALOG_FEED_URL. It needs DATABASE_URL and
// REDIS_URL. A feed with any malformed row is refused whole: every problem
// is listed with its line and column, nothing is imported, and the command
// exits 1.
//
// -dry-run checks the feed and imports it inside a transaction that is then
// rolled back, so it reports exactly what a real run would change; it
// neither migrates the schema nor touches Redis.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/app"
	"github.com/wa-shop/shop/pkg/catalog"
	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/postgres"
	"github.com/wa-shop/shop/pkg/schema"
)

func main() { app.Main("import-catalog", run) }

// run is the whole command. The human summary goes to stdout; logs (JSON)
// and problems go to stderr, so the summary can be piped or diffed alone.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import-catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dryRun := fs.Bool("dry-run", false, "check the feed and report what an import would change, changing nothing")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: import-catalog [-dry-run] [FILE_OR_URL]   (default: $CATALOG_FEED_URL)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errors.New("name one feed at most")
	}

	var (
		db      config.Database
		rds     config.Redis
		cat     config.Catalog
		logging config.Logging
	)
	if err := config.Load(&db, &rds, &cat, &logging); err != nil {
		return err
	}
	source := fs.Arg(0)
	if source == "" {
		source = cat.FeedURL
	}
	if source == "" {
		return errors.New("no feed: name a file or URL, or set CATALOG_FEED_URL")
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: logging.SlogLevel()}))
	// Parsed up front, so a bad REDIS_URL stops us before anything is written.
	redisOpts, err := redis.ParseURL(rds.URL)
	if err != nil {
		return errors.New("REDIS_URL is not a valid Redis URL")
	}

	pool, err := postgres.Open(ctx, db.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if !*dryRun {
		applied, err := schema.Migrate(ctx, pool, log)
		if err != nil {
			return err
		}
		log.Info("schema up to date", "applied", applied)
	}

	products, err := readFeed(ctx, source)
	if fe, ok := errors.AsType[*catalog.FeedError](err); ok {
		fmt.Fprintf(stderr, "The feed %s cannot be imported:\n", catalog.Redact(source))
		for _, re := range fe.Errors {
			fmt.Fprintf(stderr, "  %s\n", re)
		}
		if fe.Omitted > 0 {
			fmt.Fprintf(stderr, "  … and %d more\n", fe.Omitted)
		}
		return fmt.Errorf("feed has %d errors; nothing was imported", len(fe.Errors)+fe.Omitted)
	}
	if err != nil {
		return err
	}
	variants := 0
	for _, p := range products {
		variants += len(p.Variants)
	}
	fmt.Fprintf(stdout, "Feed %s: %d products, %d variants.\n", catalog.Redact(source), len(products), variants)

	if *dryRun {
		res, err := importAndRollBack(ctx, pool, products)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "Dry run: nothing was changed. An import would do this:")
		printResult(stdout, res)
		return nil
	}

	rdb := redis.NewClient(redisOpts)
	defer rdb.Close()
	// Without Redis the import would leave availability counting the old
	// stock until someone rebuilds it: refuse before writing anything.
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis is unreachable, so availability could not be rebuilt after the import; nothing was imported: %w", err)
	}
	res, err := catalog.Import(ctx, pool, products)
	if err != nil {
		return err
	}
	log.Info("catalogue imported", "source", catalog.Redact(source),
		"products_inserted", res.ProductsInserted, "products_updated", res.ProductsUpdated,
		"variants_inserted", res.VariantsInserted, "variants_updated", res.VariantsUpdated,
		"variants_discontinued", res.VariantsDiscontinued)
	printResult(stdout, res)

	rebuilt, err := inventory.Rebuild(ctx, pool, rdb)
	if err != nil {
		return fmt.Errorf("the catalogue was imported, but rebuilding availability in Redis failed; run the import again: %w", err)
	}
	fmt.Fprintf(stdout, "Availability rebuilt in Redis: %d SKUs, %d holds.\n", rebuilt.SKUs, rebuilt.Holds)
	return nil
}

func readFeed(ctx context.Context, source string) ([]catalog.Product, error) {
	rc, err := catalog.Load(ctx, source)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return catalog.Parse(rc)
}

// importAndRollBack runs the real import, statements and constraints
// included, and discards it.
func importAndRollBack(ctx context.Context, pool *pgxpool.Pool, products []catalog.Product) (catalog.Result, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return catalog.Result{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return catalog.ImportTx(ctx, tx, products)
}

func printResult(w io.Writer, res catalog.Result) {
	fmt.Fprintf(w, "Products: %d inserted, %d updated.\n", res.ProductsInserted, res.ProductsUpdated)
	fmt.Fprintf(w, "Variants: %d inserted, %d updated, %d discontinued.\n",
		res.VariantsInserted, res.VariantsUpdated, res.VariantsDiscontinued)
	if len(res.Discontinued) > 0 {
		fmt.Fprintf(w, "Discontinued (no longer in the feed): %s\n", strings.Join(res.Discontinued, ", "))
	}
}
