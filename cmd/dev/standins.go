package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/standin/stripe"
)

// standins are the local Graph API and Stripe servers; a URL stays empty
// when the user configured the real service (or another stand-in) instead.
type standins struct {
	GraphURL, StripeURL string
	servers             []*http.Server
}

// startStandins serves each stand-in on its own loopback port unless its
// base URL is configured, and points the shop at it.
func startStandins(ctx context.Context, server config.Server, log *slog.Logger) (*standins, error) {
	s := &standins{}
	if os.Getenv("WHATSAPP_API_BASE_URL") == "" {
		g := graph.New(graph.Options{
			AccessToken:   os.Getenv("WHATSAPP_ACCESS_TOKEN"),
			PhoneNumberID: os.Getenv("WHATSAPP_PHONE_NUMBER_ID"),
		})
		url, err := s.serve(g, log)
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
	return s, nil
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

// Close stops the stand-ins.
func (s *standins) Close() {
	for _, srv := range s.servers {
		_ = srv.Close()
	}
}
