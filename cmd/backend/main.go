// Command backend is the dedicated backend: the same handlers as the Netlify
// functions on a long-running net/http server. create-order-proxy forwards
// to it when BACKEND_MODE=proxy.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wa-shop/shop/pkg/app"
	"github.com/wa-shop/shop/pkg/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var (
		server  config.Server
		logging config.Logging
	)
	if err := config.Load(&server, &logging); err != nil {
		return err
	}
	log := app.NewLogger(logging.SlogLevel())
	handler, err := app.Backend(ctx, log)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              fmt.Sprintf(":%d", server.Port),
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
	}
	errs := make(chan error, 1)
	go func() { errs <- srv.ListenAndServe() }()
	log.Info("backend listening", "port", server.Port)
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	// Let requests in flight finish: an order half created is resumable, but
	// a finished one is better.
	shutdown, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
