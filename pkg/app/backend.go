package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/catalog"
	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/httpx"
)

// Backend builds the dedicated backend: the functions' handlers on plain
// net/http (the target of BACKEND_MODE=proxy), admin endpoints behind
// ADMIN_API_KEY and a health check.
func Backend(ctx context.Context, log *slog.Logger) (http.Handler, error) {
	var (
		db      config.Database
		rds     config.Redis
		api     config.OrderAPI
		admin   config.Admin
		backend config.Backend
		cat     config.Catalog
	)
	if err := config.Load(&db, &rds, &api, &admin, &backend, &cat); err != nil {
		return nil, err
	}
	if backend.SharedSecret == "" {
		return nil, &config.Error{Problems: []string{"BACKEND_SHARED_SECRET is required on the backend"}}
	}
	webhook, err := Webhook(ctx, log.With(slog.String("endpoint", "webhook")))
	if err != nil {
		return nil, err
	}
	callback, err := PaymentCallback(ctx, log.With(slog.String("endpoint", "payment-callback")))
	if err != nil {
		return nil, err
	}
	createOrder, err := createOrderInline(ctx, api.Key, backend.SharedSecret, log.With(slog.String("endpoint", "create-order")))
	if err != nil {
		return nil, err
	}
	cleanup, err := Cleanup(false)(ctx, log.With(slog.String("endpoint", "cleanup")))
	if err != nil {
		return nil, err
	}
	pool, rdb, err := openStores(ctx, db, rds)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", webhook)
	mux.Handle("POST /payment-callback", callback)
	mux.Handle("POST /create-order", createOrder)
	mux.Handle("POST /cleanup", cleanup)
	mux.Handle("POST /catalog-sync", requireAdmin(admin.Key, log, catalogSync(pool, rdb, cat.FeedURL, log)))
	mux.Handle("GET /healthz", health(pool, rdb, log))
	return mux, nil
}

// catalogSync re-imports the feed at CATALOG_FEED_URL and rebuilds Redis.
func catalogSync(pool *pgxpool.Pool, rdb redis.UniversalClient, feedURL string, log *slog.Logger) http.Handler {
	return httpx.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		if feedURL == "" {
			return httpx.Errorf(http.StatusConflict, "CATALOG_FEED_URL is not set")
		}
		res, rebuilt, err := catalog.Sync(r.Context(), pool, rdb, feedURL)
		var feedErr *catalog.FeedError
		if errors.As(err, &feedErr) {
			httpx.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "the feed cannot be imported", "rows": feedErr.Errors})
			return nil
		}
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"import": res, "rebuilt": rebuilt})
		return nil
	})
}

// health answers 200 only when Postgres and Redis both answer.
func health(pool *pgxpool.Pool, rdb redis.UniversalClient, log *slog.Logger) http.Handler {
	return httpx.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			return httpx.Wrap(http.StatusServiceUnavailable, "postgres unreachable", err)
		}
		if err := rdb.Ping(ctx).Err(); err != nil {
			return httpx.Wrap(http.StatusServiceUnavailable, "redis unreachable", err)
		}
		_, err := w.Write([]byte("ok\n"))
		return err
	})
}

func requireAdmin(key string, log *slog.Logger, next http.Handler) http.Handler {
	return httpx.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(key)) != 1 {
			return httpx.Errorf(http.StatusUnauthorized, "admin key required")
		}
		next.ServeHTTP(w, r)
		return nil
	})
}
