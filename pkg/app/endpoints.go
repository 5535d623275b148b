package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/wa-shop/shop/pkg/cleanup"
	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/payments"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// Webhook builds the WhatsApp webhook.
func Webhook(ctx context.Context, log *slog.Logger) (http.Handler, error) {
	var in config.WhatsAppInbound
	if err := config.Load(&in); err != nil {
		return nil, err
	}
	return whatsapp.NewWebhook(whatsapp.WebhookConfig{
		AppSecret: in.AppSecret, VerifyToken: in.VerifyToken, PhoneNumberID: in.PhoneNumberID,
	}, log), nil
}

// PaymentCallback builds Stripe's webhook endpoint.
func PaymentCallback(ctx context.Context, log *slog.Logger) (http.Handler, error) {
	var hook config.StripeWebhook
	if err := config.Load(&hook); err != nil {
		return nil, err
	}
	return payments.NewCallback(hook.Secret, log), nil
}

// CreateOrder builds create-order-proxy: a forwarder to the dedicated
// backend, or the order logic itself, as BACKEND_MODE says.
func CreateOrder(ctx context.Context, log *slog.Logger) (http.Handler, error) {
	var backend config.Backend
	if err := config.Load(&backend); err != nil {
		return nil, err
	}
	if backend.Mode == config.ModeProxy {
		target, _ := url.Parse(backend.URL) // validated by Load
		return orders.NewProxy(target, backend.SharedSecret, log), nil
	}
	return orders.NewInline(log), nil
}

// Cleanup builds the cleanup endpoint. trustSchedule accepts Netlify's
// scheduler header: true in the Lambda main and the dev server (where
// `netlify functions:invoke` sends it), false on the dedicated backend.
func Cleanup(trustSchedule bool) Builder {
	return func(ctx context.Context, log *slog.Logger) (http.Handler, error) {
		var (
			db    config.Database
			rds   config.Redis
			admin config.Admin
		)
		if err := config.Load(&db, &rds, &admin); err != nil {
			return nil, err
		}
		pool, rdb, err := openStores(ctx, db, rds)
		if err != nil {
			return nil, err
		}
		runner := &cleanup.Runner{DB: pool, Redis: rdb, Log: log}
		return cleanup.NewHandler(runner, cleanup.HandlerOptions{AdminKey: admin.Key, TrustScheduleHeader: trustSchedule}, log), nil
	}
}
