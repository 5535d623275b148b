package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/payments"
	"github.com/wa-shop/shop/pkg/postgres"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// openStores builds the Postgres pool and Redis client; neither connects
// until first used, so a cold start does not wait on them.
func openStores(ctx context.Context, db config.Database, rds config.Redis) (*pgxpool.Pool, *redis.Client, error) {
	pool, err := postgres.Open(ctx, db.URL)
	if err != nil {
		return nil, nil, err
	}
	opts, err := redis.ParseURL(rds.URL)
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("parse REDIS_URL: malformed URL")
	}
	// One request at a time per instance: a few connections suffice, and
	// short timeouts turn an unreachable Redis into a quick 5xx and a retry.
	opts.PoolSize = 4
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 2 * time.Second
	opts.WriteTimeout = 2 * time.Second
	return pool, redis.NewClient(opts), nil
}

// orderSettings are the variables order creation reads.
type orderSettings struct {
	db     config.Database
	rds    config.Redis
	stripe config.StripeAPI
	rules  config.Orders
	wa     config.WhatsAppAPI
}

func (s *orderSettings) sections() []any {
	return []any{&s.db, &s.rds, &s.stripe, &s.rules, &s.wa}
}

// newOrderService wires orders.Create to Postgres, Redis, Stripe and the
// outbox's WhatsApp sender.
func newOrderService(ctx context.Context, s *orderSettings, log *slog.Logger) (*orders.Service, *redis.Client, error) {
	pool, rdb, err := openStores(ctx, s.db, s.rds)
	if err != nil {
		return nil, nil, err
	}
	checkout, err := payments.NewCheckout(s.stripe)
	if err != nil {
		return nil, nil, err
	}
	sender := whatsapp.NewClient(whatsapp.ClientConfig{
		BaseURL: s.wa.BaseURL, Version: s.wa.Version, PhoneNumberID: s.wa.PhoneNumberID,
		AccessToken: s.wa.AccessToken, Log: log,
	})
	return &orders.Service{
		DB:          pool,
		Inventory:   inventory.New(rdb, time.Now),
		Checkout:    checkout,
		Outbox:      &outbox.Outbox{DB: pool, Sender: sender, Now: time.Now, Log: log},
		Now:         time.Now,
		TTL:         s.rules.ReservationTTL,
		MaxQuantity: s.rules.MaxQuantityPerOrder,
		Templates: orders.Templates{
			Confirmation: s.wa.OrderConfirmationTemplate, Shipping: s.wa.ShippingUpdateTemplate, Language: s.wa.TemplateLanguage,
			PaymentLink: s.wa.PaymentLinkTemplate, ExpiryNotice: s.wa.ExpiryNoticeTemplate, RefundNotice: s.wa.RefundNoticeTemplate,
		},
		Log: log,
	}, rdb, nil
}
