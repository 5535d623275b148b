package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/config"
)

// Function names, as Netlify serves them under /.netlify/functions/.
var functionNames = []string{"webhook", "payment-callback", "create-order-proxy", "cleanup"}

// shortPaths are the pretty paths netlify.toml rewrites to the functions.
var shortPaths = map[string]string{
	"/webhook":          "webhook",
	"/payment-callback": "payment-callback",
	"/create-order":     "create-order-proxy",
}

// Routes mounts every function the way Netlify serves them, plus the short
// paths and the dedicated backend's admin endpoints, for the dev server and
// the tests. trustSchedule is passed to Cleanup.
func Routes(ctx context.Context, log *slog.Logger, trustSchedule bool) (http.Handler, error) {
	builders := map[string]Builder{
		"webhook":            Webhook,
		"payment-callback":   PaymentCallback,
		"create-order-proxy": CreateOrder,
		"cleanup":            Cleanup(trustSchedule),
	}
	mux := http.NewServeMux()
	handlers := map[string]http.Handler{}
	var errs []error
	for _, name := range functionNames {
		h, err := builders[name](ctx, log.With(slog.String("function", name)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		handlers[name] = h
		mux.Handle("/.netlify/functions/"+name, h)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for path, name := range shortPaths {
		mux.Handle(path, handlers[name])
	}
	if err := adminRoutes(ctx, mux, log); err != nil {
		return nil, err
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux, nil
}

// adminRoutes mounts the dev server's copy of the dedicated backend's admin
// endpoints. Netlify has no such functions; the dev server offers them so a
// local stack can be operated, and tested end to end, as the backend is.
func adminRoutes(ctx context.Context, mux *http.ServeMux, log *slog.Logger) error {
	var (
		db    config.Database
		rds   config.Redis
		admin config.Admin
		cat   config.Catalog
	)
	if err := config.Load(&db, &rds, &admin, &cat); err != nil {
		return err
	}
	pool, rdb, err := openStores(ctx, db, rds)
	if err != nil {
		return err
	}
	mountAdmin(ctx, mux, pool, rdb, admin.Key, cat.FeedURL, log)
	return nil
}

// mountAdmin serves the admin endpoints behind ADMIN_API_KEY: POST
// /catalog-sync (re-imports CATALOG_FEED_URL, a URL or a path) and POST
// /orders/{id}/ship.
func mountAdmin(ctx context.Context, mux *http.ServeMux, pool *pgxpool.Pool, rdb *redis.Client, adminKey, feedURL string, log *slog.Logger) {
	syncLog := log.With(slog.String("endpoint", "catalog-sync"))
	mux.Handle("POST /catalog-sync", requireAdmin(adminKey, syncLog, catalogSync(pool, rdb, feedURL, syncLog)))
	shipLog := log.With(slog.String("endpoint", "ship-order"))
	mux.Handle("POST /orders/{id}/ship", requireAdmin(adminKey, shipLog, shipOrder(ctx, shipLog)))
}
