package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Database is the Postgres connection. The URL may point at a transaction-mode
// pooler (PgBouncer, Neon, Supabase): see postgres.Open for why that works.
type Database struct {
	URL string `envconfig:"DATABASE_URL" required:"true"`
}

func (d *Database) validate() []string {
	return checkURL("DATABASE_URL", d.URL, "postgres", "postgresql")
}

// Redis is the inventory store; rediss:// selects TLS (Upstash and the like).
type Redis struct {
	URL string `envconfig:"REDIS_URL" required:"true"`
}

func (r *Redis) validate() []string {
	return checkURL("REDIS_URL", r.URL, "redis", "rediss", "unix")
}

// WhatsAppInbound is what the webhook needs to trust Meta's calls.
type WhatsAppInbound struct {
	AppSecret     string `envconfig:"WHATSAPP_APP_SECRET" required:"true"`
	VerifyToken   string `envconfig:"VERIFY_TOKEN" required:"true"`
	PhoneNumberID string `envconfig:"WHATSAPP_PHONE_NUMBER_ID" required:"true"`
	// MaxMessageAge: older messages (delivered late after an outage) get the
	// catalogue, never a stock hold.
	MaxMessageAge time.Duration `envconfig:"WHATSAPP_MAX_MESSAGE_AGE" default:"1h"`
}

// WhatsAppAPI is what sending messages through the Cloud API needs.
type WhatsAppAPI struct {
	PhoneNumberID string `envconfig:"WHATSAPP_PHONE_NUMBER_ID" required:"true"`
	AccessToken   string `envconfig:"WHATSAPP_ACCESS_TOKEN" required:"true"`
	BaseURL       string `envconfig:"WHATSAPP_API_BASE_URL" default:"https://graph.facebook.com"`
	Version       string `envconfig:"WHATSAPP_API_VERSION" default:"v25.0"`
	// CatalogID, when set, makes the catalogue a multi-product message from
	// the Meta catalogue instead of a list built from Postgres.
	CatalogID                 string `envconfig:"WHATSAPP_CATALOG_ID"`
	OrderConfirmationTemplate string `envconfig:"ORDER_CONFIRMATION_TEMPLATE" default:"order_confirmation"`
	ShippingUpdateTemplate    string `envconfig:"SHIPPING_UPDATE_TEMPLATE" default:"shipping_update"`
	TemplateLanguage          string `envconfig:"TEMPLATE_LANGUAGE" default:"en"`
	// Templates sent instead of a text message when the customer's 24-hour
	// window has closed; unset means no fallback (the message fails).
	PaymentLinkTemplate  string `envconfig:"PAYMENT_LINK_TEMPLATE"`
	ExpiryNoticeTemplate string `envconfig:"EXPIRY_NOTICE_TEMPLATE"`
	RefundNoticeTemplate string `envconfig:"REFUND_NOTICE_TEMPLATE"`
}

func (w *WhatsAppAPI) validate() []string {
	problems := checkURL("WHATSAPP_API_BASE_URL", w.BaseURL, "http", "https")
	if !strings.HasPrefix(w.Version, "v") {
		problems = append(problems, "WHATSAPP_API_VERSION must look like v25.0")
	}
	return problems
}

// StripeAPI is what creating Checkout sessions and refunds needs.
type StripeAPI struct {
	Secret     string `envconfig:"STRIPE_SECRET" required:"true"`
	BaseURL    string `envconfig:"STRIPE_API_BASE_URL" default:"https://api.stripe.com"`
	SuccessURL string `envconfig:"CHECKOUT_SUCCESS_URL" default:"https://wa.me/"`
	CancelURL  string `envconfig:"CHECKOUT_CANCEL_URL" default:"https://wa.me/"`
	// RateLimit keeps cleanup's bulk calls under Stripe's test-mode limit.
	RateLimit float64 `envconfig:"STRIPE_RATE_LIMIT" default:"20"`
}

func (s *StripeAPI) validate() []string {
	problems := checkURL("STRIPE_API_BASE_URL", s.BaseURL, "http", "https")
	problems = append(problems, checkURL("CHECKOUT_SUCCESS_URL", s.SuccessURL, "http", "https")...)
	problems = append(problems, checkURL("CHECKOUT_CANCEL_URL", s.CancelURL, "http", "https")...)
	if s.RateLimit <= 0 {
		problems = append(problems, "STRIPE_RATE_LIMIT must be positive")
	}
	return problems
}

// StripeWebhook is what trusting Stripe's events needs.
type StripeWebhook struct {
	Secret string `envconfig:"STRIPE_WEBHOOK_SECRET" required:"true"`
}

// Orders holds the shop's order rules.
type Orders struct {
	ReservationTTL      time.Duration `envconfig:"RESERVATION_TTL" default:"10m"`
	MaxQuantityPerOrder int           `envconfig:"MAX_QUANTITY_PER_ORDER" default:"10"`
}

func (o *Orders) validate() []string {
	var problems []string
	if o.ReservationTTL < time.Minute {
		problems = append(problems, "RESERVATION_TTL must be at least 1m")
	}
	if o.MaxQuantityPerOrder < 1 {
		problems = append(problems, "MAX_QUANTITY_PER_ORDER must be at least 1")
	}
	return problems
}

// Backend modes for create-order-proxy.
const (
	ModeInline = "inline"
	ModeProxy  = "proxy"
)

// Backend says where order creation runs.
type Backend struct {
	Mode         string `envconfig:"BACKEND_MODE" default:"inline"`
	URL          string `envconfig:"BACKEND_URL"`
	SharedSecret string `envconfig:"BACKEND_SHARED_SECRET"`
}

func (b *Backend) validate() []string {
	switch b.Mode {
	case ModeInline:
		return nil
	case ModeProxy:
		var problems []string
		if b.URL == "" {
			problems = append(problems, "BACKEND_URL is required when BACKEND_MODE=proxy")
		} else {
			problems = append(problems, checkURL("BACKEND_URL", b.URL, "http", "https")...)
		}
		if b.SharedSecret == "" {
			problems = append(problems, "BACKEND_SHARED_SECRET is required when BACKEND_MODE=proxy")
		}
		return problems
	}
	return []string{fmt.Sprintf("BACKEND_MODE must be %q or %q", ModeInline, ModeProxy)}
}

// OrderAPI guards create-order for shop fronts and admin tools.
type OrderAPI struct {
	Key string `envconfig:"ORDER_API_KEY" required:"true"`
}

// Admin guards admin endpoints and manual cleanup.
type Admin struct {
	Key string `envconfig:"ADMIN_API_KEY" required:"true"`
}

// Catalog is where the import command reads the Meta catalogue feed when no
// file is named.
type Catalog struct {
	FeedURL string `envconfig:"CATALOG_FEED_URL"`
}

// Server is the dedicated backend and dev server.
type Server struct {
	Port    int    `envconfig:"PORT" default:"8888"`
	BaseURL string `envconfig:"BASE_URL" default:"http://localhost:8888"`
}

func (s *Server) validate() []string {
	return checkURL("BASE_URL", s.BaseURL, "http", "https")
}

// Logging sets the log level; every program reads it.
type Logging struct {
	Level string `envconfig:"LOG_LEVEL" default:"info"`
}

func (l *Logging) validate() []string {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		return []string{"LOG_LEVEL must be debug, info, warn or error"}
	}
	return nil
}

// SlogLevel is the parsed LOG_LEVEL; call it only after Load succeeded.
func (l Logging) SlogLevel() slog.Level {
	var level slog.Level
	_ = level.UnmarshalText([]byte(l.Level))
	return level
}

// checkURL reports a malformed URL by name only: connection strings carry
// passwords.
func checkURL(name, raw string, schemes ...string) []string {
	if raw == "" {
		return nil // required-ness is reported by Load
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return []string{name + " is not a valid URL"}
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s must use one of the schemes %s", name, strings.Join(schemes, ", "))}
}
