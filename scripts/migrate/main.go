// Command migrate applies the shop's schema to DATABASE_URL. It is safe to
// run twice and from several places at once. Point it at a direct
// connection, not a transaction-mode pooler: DDL belongs on a real session.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/wa-shop/shop/pkg/app"
	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/postgres"
	"github.com/wa-shop/shop/pkg/schema"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stdout io.Writer) error {
	var (
		db      config.Database
		logging config.Logging
	)
	if err := config.Load(&db, &logging); err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, db.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := schema.Migrate(ctx, pool, app.NewLogger(logging.SlogLevel()))
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "schema is up to date")
		return nil
	}
	fmt.Fprintf(stdout, "applied %d migrations: %v\n", len(applied), applied)
	return nil
}
