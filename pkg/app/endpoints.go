package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/wa-shop/shop/pkg/claim"
	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/conversation"
	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/payments"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// Webhook builds the WhatsApp webhook: it answers customers and creates
// their orders, so it reads what order creation reads plus Meta's secrets.
func Webhook(ctx context.Context, log *slog.Logger) (http.Handler, error) {
	var (
		in       config.WhatsAppInbound
		settings orderSettings
	)
	if err := config.Load(append(settings.sections(), &in)...); err != nil {
		return nil, err
	}
	svc, rdb, err := newOrderService(ctx, &settings, log)
	if err != nil {
		return nil, err
	}
	conv := &conversation.Conversation{
		DB: svc.DB, Orders: svc, Inventory: svc.Inventory, Outbox: svc.Outbox, Claims: claim.New(rdb, 0),
		Sender: svc.Outbox.Sender, PhoneNumberID: in.PhoneNumberID, CatalogID: settings.wa.CatalogID,
		MaxAge: in.MaxMessageAge, Now: time.Now, Log: log,
	}
	return whatsapp.NewWebhook(whatsapp.WebhookConfig{
		AppSecret: in.AppSecret, VerifyToken: in.VerifyToken, PhoneNumberID: in.PhoneNumberID,
	}, conv, log), nil
}

// PaymentCallback builds Stripe's webhook endpoint: it applies payments to
// orders, so it reads what order creation reads plus the signing secret.
func PaymentCallback(ctx context.Context, log *slog.Logger) (http.Handler, error) {
	var (
		hook     config.StripeWebhook
		settings orderSettings
	)
	if err := config.Load(append(settings.sections(), &hook)...); err != nil {
		return nil, err
	}
	svc, rdb, err := newOrderService(ctx, &settings, log)
	if err != nil {
		return nil, err
	}
	return payments.NewCallback(hook.Secret, svc, claim.New(rdb, 0), log), nil
}

// CreateOrder builds create-order-proxy: a forwarder to the dedicated
// backend, or the order logic itself, as BACKEND_MODE says. Each mode reads
// only its own variables.
func CreateOrder(ctx context.Context, log *slog.Logger) (http.Handler, error) {
	var (
		backend config.Backend
		api     config.OrderAPI
	)
	if err := config.Load(&backend, &api); err != nil {
		return nil, err
	}
	if backend.Mode == config.ModeProxy {
		target, _ := url.Parse(backend.URL) // validated by Load
		return orders.RequireKey(api.Key, log, orders.NewProxy(target, backend.SharedSecret, time.Now, log)), nil
	}
	return createOrderInline(ctx, api.Key, "", log)
}

// createOrderInline serves create-order with the order logic in process;
// backendSecret, on the dedicated backend, also admits the proxy's signed
// requests.
func createOrderInline(ctx context.Context, apiKey, backendSecret string, log *slog.Logger) (http.Handler, error) {
	var settings orderSettings
	if err := config.Load(settings.sections()...); err != nil {
		return nil, err
	}
	svc, _, err := newOrderService(ctx, &settings, log)
	if err != nil {
		return nil, err
	}
	return orders.NewHandler(svc, orders.Auth{APIKey: apiKey, BackendSecret: backendSecret, Now: time.Now}, log), nil
}
