package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/standin/stripe"
)

// defaultStandinsFile tells other local tools (cmd/chat) where the
// stand-ins listen, as their ports are random; it is removed when the
// stand-ins stop. A second dev server (scripts/postman.sh's) names another
// file with -standins, so it does not take over this one.
const defaultStandinsFile = ".dev/local/standins.json"

// standins are the local Graph API and Stripe servers; a URL stays empty
// when the user configured the real service (or another stand-in) instead.
type standins struct {
	GraphURL, StripeURL string
	port                int    // the dev server's
	file                string // where the URLs are written
	servers             []*http.Server
	callbacks           *graph.Callbacks
}

// startStandins serves each stand-in on its own loopback port unless its
// base URL is configured, points the shop at it and writes the URLs to file.
func startStandins(ctx context.Context, server config.Server, file string, log *slog.Logger) (*standins, error) {
	s := &standins{port: server.Port, file: file}
	if os.Getenv("WHATSAPP_API_BASE_URL") == "" {
		g := graph.New(graph.Options{
			AccessToken:   os.Getenv("WHATSAPP_ACCESS_TOKEN"),
			PhoneNumberID: os.Getenv("WHATSAPP_PHONE_NUMBER_ID"),
		})
		// Meta reports each message's fate to the webhook; so does the stand-in.
		s.callbacks = graph.WithCallbacks(g, graph.CallbackOptions{
			WebhookURL:   fmt.Sprintf("http://127.0.0.1:%d/webhook", server.Port),
			AppSecret:    os.Getenv("WHATSAPP_APP_SECRET"),
			AutoStatuses: true,
		})
		url, err := s.serve(s.callbacks, log)
		if err != nil {
			return nil, fmt.Errorf("graph stand-in: %w", err)
		}
		s.GraphURL = url
		os.Setenv("WHATSAPP_API_BASE_URL", url)
	}
	if os.Getenv("STRIPE_API_BASE_URL") == "" {
		st := stripe.New(stripe.Options{
			SecretKey:     os.Getenv("STRIPE_SECRET"),
			WebhookURL:    fmt.Sprintf("http://127.0.0.1:%d/.netlify/functions/payment-callback", server.Port),
			WebhookSecret: os.Getenv("STRIPE_WEBHOOK_SECRET"),
		})
		url, err := s.serve(st, log)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("stripe stand-in: %w", err)
		}
		s.StripeURL = url
		os.Setenv("STRIPE_API_BASE_URL", url)
	}
	if err := s.writeFile(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// urls says where the stand-ins and the webhook listen; a stand-in's URL is
// empty when the real service is configured instead.
func (s *standins) urls() map[string]string {
	return map[string]string{
		"graph": s.GraphURL, "stripe": s.StripeURL, "webhook": fmt.Sprintf("http://localhost:%d/webhook", s.port),
	}
}

// writeFile records urls in s.file.
func (s *standins) writeFile() error {
	b, err := json.MarshalIndent(s.urls(), "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.file), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", s.file, err)
	}
	if err := os.WriteFile(s.file, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", s.file, err)
	}
	return nil
}

// ServeHTTP answers GET /_dev/standins with urls, so a client that knows only
// the dev server (the Postman suite) can find the stand-ins' control APIs.
func (s *standins) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.urls())
}

func (s *standins) serve(h http.Handler, log *slog.Logger) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			log.Error("stand-in stopped", slog.String("error", err.Error()))
		}
	}()
	return "http://" + l.Addr().String(), nil
}

// Close stops the stand-ins and forgets where they were.
func (s *standins) Close() {
	for _, srv := range s.servers {
		_ = srv.Close()
	}
	if s.callbacks != nil {
		s.callbacks.Close()
	}
	_ = os.Remove(s.file)
}
