package app

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/catalog"
	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/httpx"
	"github.com/wa-shop/shop/pkg/orders"
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
	mountAdmin(ctx, mux, pool, rdb, admin.Key, cat.FeedURL, log)
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

// shipOrder is POST /orders/{id}/ship with {"tracking_ref": …, "carrier": …}:
// it marks a paid order shipped and sends the customer the shipping_update
// template (orders.Service.MarkShipped), answering
// {"order_id", "fulfillment_status", "tracking_ref"}. A repeat with the same
// reference answers 200 again and sends nothing.
//
// Its order service is built once, here. Backend has already built one from
// the same variables (createOrderInline), so this cannot fail on
// configuration; if it fails anyway, every call answers 503 and logs why.
func shipOrder(ctx context.Context, log *slog.Logger) http.Handler {
	var settings orderSettings
	var svc *orders.Service
	buildErr := config.Load(settings.sections()...)
	if buildErr == nil {
		svc, _, buildErr = newOrderService(ctx, &settings, log)
	}
	return httpx.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		if buildErr != nil {
			return httpx.Wrap(http.StatusServiceUnavailable, "shipping is unavailable", buildErr)
		}
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			return httpx.Errorf(http.StatusBadRequest, "the order id must be a UUID")
		}
		var body struct {
			TrackingRef string `json:"tracking_ref"`
			Carrier     string `json:"carrier"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return httpx.Errorf(http.StatusRequestEntityTooLarge, "body over %d bytes", tooBig.Limit)
			}
			return httpx.Errorf(http.StatusBadRequest, `the body must be JSON {"tracking_ref": "…", "carrier": "…"}`)
		}
		_, err = svc.MarkShipped(r.Context(), id, body.TrackingRef, body.Carrier)
		switch {
		case errors.Is(err, orders.ErrNotFound):
			return httpx.Errorf(http.StatusNotFound, "no such order")
		case errors.Is(err, orders.ErrNotShippable), errors.Is(err, orders.ErrAlreadyShipped):
			return httpx.Wrap(http.StatusConflict, strings.TrimPrefix(err.Error(), "orders: "), err)
		case errors.Is(err, orders.ErrInvalid):
			return httpx.Wrap(http.StatusBadRequest, strings.TrimPrefix(err.Error(), "orders: invalid request: "), err)
		case err != nil:
			return err
		}
		sh, err := svc.Shipment(r.Context(), id)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{
			"order_id": id.String(), "fulfillment_status": sh.Fulfilment, "tracking_ref": sh.TrackingRef,
		})
		return nil
	})
}
