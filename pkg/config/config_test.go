package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadReportsEveryProblemWithoutValues(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("REDIS_URL", "mysql://secret-password@host")
	t.Setenv("RESERVATION_TTL", "ten-minutes-secret")
	t.Setenv("BACKEND_MODE", "proxy")
	t.Setenv("WHATSAPP_APP_SECRET", "")

	err := Load(&Database{}, &Redis{}, &Orders{}, &Backend{}, &WhatsAppInbound{}, &WhatsAppAPI{})
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("Load() error = %v, want *config.Error", err)
	}
	want := []string{
		"BACKEND_SHARED_SECRET is required when BACKEND_MODE=proxy",
		"BACKEND_URL is required when BACKEND_MODE=proxy",
		"DATABASE_URL is required",
		"REDIS_URL must use one of the schemes redis, rediss, unix",
		"RESERVATION_TTL is not a valid duration (like 10m or 90s)",
		"VERIFY_TOKEN is required",
		"WHATSAPP_ACCESS_TOKEN is required",
		"WHATSAPP_APP_SECRET is required",
		"WHATSAPP_PHONE_NUMBER_ID is required",
	}
	if diff := cmp.Diff(want, cfgErr.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "secret-password") || strings.Contains(err.Error(), "ten-minutes-secret") {
		t.Errorf("error %q prints a variable's value", err)
	}
}

func TestLoadDefaultsAndValues(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://shop@127.0.0.1:5432/shop")
	t.Setenv("RESERVATION_TTL", "15m")

	var (
		db      Database
		orders  Orders
		backend Backend
		logging Logging
	)
	if err := Load(&db, &orders, &backend, &logging); err != nil {
		t.Fatalf("Load() = %v", err)
	}
	type got struct {
		URL     string
		TTL     time.Duration
		MaxQty  int
		Mode    string
		Logging string
	}
	want := got{"postgres://shop@127.0.0.1:5432/shop", 15 * time.Minute, 10, ModeInline, "info"}
	if diff := cmp.Diff(want, got{db.URL, orders.ReservationTTL, orders.MaxQuantityPerOrder, backend.Mode, logging.Level}); diff != "" {
		t.Errorf("loaded (-want +got):\n%s", diff)
	}
}

func TestBackendModes(t *testing.T) {
	tests := []struct {
		name string
		b    Backend
		want int
	}{
		{"inline needs nothing", Backend{Mode: ModeInline}, 0},
		{"proxy with url and secret", Backend{Mode: ModeProxy, URL: "https://backend.example", SharedSecret: "s"}, 0},
		{"proxy with a bad url", Backend{Mode: ModeProxy, URL: "backend", SharedSecret: "s"}, 1},
		{"unknown mode", Backend{Mode: "sideways"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(tt.b.validate()); got != tt.want {
				t.Errorf("validate() gave %d problems, want %d: %v", got, tt.want, tt.b.validate())
			}
		})
	}
}
