// Command stripe-standin serves the local Stripe stand-in
// (pkg/standin/stripe) on its own, for manual runs; the dev server starts the
// same handler in-process.
//
//	stripe-standin -addr 127.0.0.1:0 -secret-key sk_test_… \
//	    -webhook-url http://127.0.0.1:8888/.netlify/functions/payment-callback \
//	    -webhook-secret whsec_…
//
// The first line it prints is the URL it listens on, so a script can start
// it on a free port and read where it went. Point STRIPE_API_BASE_URL at
// that URL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/wa-shop/shop/pkg/standin"
	"github.com/wa-shop/shop/pkg/standin/stripe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "stripe-standin:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stripe-standin", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on; port 0 picks a free one")
	key := fs.String("secret-key", getenv("STRIPE_SECRET"), "the secret key to accept; any sk_test_ key when empty (default $STRIPE_SECRET)")
	hookURL := fs.String("webhook-url", "", "where events go, the shop's payment-callback; events are only reported when empty")
	hookSecret := fs.String("webhook-secret", getenv("STRIPE_WEBHOOK_SECRET"), "signs events (default $STRIPE_WEBHOOK_SECRET)")
	version := fs.String("api-version", stripe.DefaultAPIVersion, "api_version stamped on events")
	baseURL := fs.String("base-url", "", "public URL of this server for session urls; taken from each request's Host when empty")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *hookURL != "" && *hookSecret == "" {
		return errors.New("-webhook-url needs -webhook-secret (or STRIPE_WEBHOOK_SECRET) to sign events")
	}
	h := stripe.New(stripe.Options{
		SecretKey:     *key,
		WebhookURL:    *hookURL,
		WebhookSecret: *hookSecret,
		APIVersion:    *version,
		BaseURL:       *baseURL,
	})
	return standin.Serve(ctx, *addr, h, stdout)
}
