package app

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/wa-shop/shop/pkg/cleanup"
	"github.com/wa-shop/shop/pkg/config"
)

// Cleanup builds the cleanup endpoint. trustSchedule accepts Netlify's
// scheduler header (X-NF-Event: schedule): true in the Lambda main, where
// only the scheduler can reach a scheduled function, and in the local dev
// server; false on the dedicated backend.
//
// A run expires Checkout sessions and sends the outbox, so it reads what
// order creation reads (Stripe, WhatsApp) besides ADMIN_API_KEY.
func Cleanup(trustSchedule bool) Builder {
	return func(ctx context.Context, log *slog.Logger) (http.Handler, error) {
		var admin config.Admin
		runner, err := CleanupRunner(ctx, log, &admin)
		if err != nil {
			return nil, err
		}
		return cleanup.NewHandler(runner, cleanup.HandlerOptions{AdminKey: admin.Key, TrustScheduleHeader: trustSchedule}, log), nil
	}
}

// CleanupRunner wires a cleanup run to Postgres, Redis, Stripe (paced by
// STRIPE_RATE_LIMIT) and the outbox's WhatsApp sender, for the function and
// for scripts/cleanup-reservations alike. extra config sections are loaded
// with the run's, so one error names every missing variable.
func CleanupRunner(ctx context.Context, log *slog.Logger, extra ...any) (*cleanup.Runner, error) {
	var settings orderSettings
	if err := config.Load(append(settings.sections(), extra...)...); err != nil {
		return nil, err
	}
	svc, _, err := newOrderService(ctx, &settings, log)
	if err != nil {
		return nil, err
	}
	return &cleanup.Runner{DB: svc.DB, Orders: svc, Outbox: svc.Outbox, Log: log}, nil
}
