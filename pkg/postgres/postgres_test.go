package postgres_test

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wa-shop/shop/pkg/postgres"
	"github.com/wa-shop/shop/pkg/schema"
	"github.com/wa-shop/shop/pkg/testenv"
)

func TestOpenDefaultsSuitPoolers(t *testing.T) {
	tests := []struct {
		url       string
		wantMode  pgx.QueryExecMode
		wantConns int32
	}{
		{"postgres://u@127.0.0.1/db", pgx.QueryExecModeExec, 4},
		{"postgres://u@127.0.0.1/db?default_query_exec_mode=simple_protocol&pool_max_conns=2", pgx.QueryExecModeSimpleProtocol, 2},
		{"host=127.0.0.1 user=u dbname=db default_query_exec_mode=cache_statement", pgx.QueryExecModeCacheStatement, 4},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			pool, err := postgres.Open(t.Context(), tt.url)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			cfg := pool.Config()
			if cfg.ConnConfig.DefaultQueryExecMode != tt.wantMode || cfg.MaxConns != tt.wantConns || cfg.MinConns != 0 {
				t.Errorf("mode %v, max %d, min %d; want %v, %d, 0",
					cfg.ConnConfig.DefaultQueryExecMode, cfg.MaxConns, cfg.MinConns, tt.wantMode, tt.wantConns)
			}
		})
	}
}

func TestOpenHidesTheURLInErrors(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://u:s3cret@127.0.0.1:notaport/db")
	if err == nil {
		t.Fatal("Open accepted a malformed URL")
	}
	if got := err.Error(); got != "parse DATABASE_URL: malformed connection string" {
		t.Errorf("error = %q", got)
	}
}

func TestMigrateIsSafeTwiceAndConcurrently(t *testing.T) {
	pool := testenv.DB(t) // already migrated from the template
	log := slog.New(slog.DiscardHandler)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			applied, err := schema.Migrate(t.Context(), pool, log)
			if err == nil && len(applied) != 0 {
				t.Errorf("run %d applied %v on an up-to-date schema", i, applied)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
}
