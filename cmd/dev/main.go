// Command dev runs the whole shop locally: a private Postgres and Redis
// (unless DATABASE_URL/REDIS_URL name existing ones), the schema, the demo
// catalogue, the Graph API and Stripe stand-ins, and every function at
// http://localhost:8888/.netlify/functions/<name>. `./build.sh dev` runs it;
// Ctrl-C stops everything it started.
//
// Besides the functions it serves the dedicated backend's admin endpoints
// (POST /catalog-sync, which re-imports the demo feed unless
// CATALOG_FEED_URL names another, and POST /orders/{id}/ship) and
// GET /_dev/standins, where the stand-ins listen. -standins names the file
// those URLs are also written to (default .dev/local/standins.json, which
// ./build.sh chat reads). The Stripe stand-in's sessions are saved beside
// it, in stripe-standin.json, so orders made before a restart can still be
// paid, expired and refunded.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wa-shop/shop/pkg/app"
	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/devstack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	standinsFile := flag.String("standins", defaultStandinsFile, "where to write the stand-ins' URLs")
	flag.Parse()
	if err := run(ctx, *standinsFile, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

// devDefaults are harmless local values for what a real deploy configures;
// anything set in the environment or .env wins.
var devDefaults = map[string]string{
	"VERIFY_TOKEN":             "dev-verify-token",
	"WHATSAPP_APP_SECRET":      "dev-app-secret",
	"WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
	"WHATSAPP_ACCESS_TOKEN":    "dev-access-token",
	"STRIPE_SECRET":            "sk_test_dev",
	"STRIPE_WEBHOOK_SECRET":    "whsec_dev",
	"ADMIN_API_KEY":            "dev-admin-key",
	"ORDER_API_KEY":            "dev-order-key",
	"LOG_LEVEL":                "info",
	"CATALOG_FEED_URL":         demoFeed, // what POST /catalog-sync re-imports
}

func run(ctx context.Context, standinsFile string, stdout io.Writer) error {
	for k, v := range devDefaults {
		setDefault(k, v)
	}
	var stack *devstack.Stack
	if os.Getenv("DATABASE_URL") == "" || os.Getenv("REDIS_URL") == "" {
		var err error
		if stack, err = devstack.Up(".dev/local"); err != nil {
			return fmt.Errorf("local Postgres and Redis: %w", err)
		}
		defer stack.Down()
		for k, v := range stack.Env() {
			setDefault(k, v)
		}
	}
	var (
		server  config.Server
		logging config.Logging
	)
	if err := config.Load(&server, &logging); err != nil {
		return err
	}
	log := app.NewLogger(logging.SlogLevel())
	standins, err := startStandins(ctx, server, standinsFile, log)
	if err != nil {
		return err
	}
	defer standins.Close()
	if err := prepareData(ctx, log, stdout); err != nil {
		return err
	}
	routes, err := app.Routes(ctx, log, true)
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", server.Port))
	if err != nil {
		return err
	}
	printBanner(stdout, server, standins)
	startSchedule(ctx, server.Port, log, stdout)
	mux := http.NewServeMux()
	mux.Handle("/", routes)
	mux.Handle("GET /_dev/standins", standins)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(stdout, "stopped")
	return nil
}

func setDefault(key, value string) {
	if os.Getenv(key) == "" {
		os.Setenv(key, value)
	}
}
