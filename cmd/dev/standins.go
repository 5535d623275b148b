package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
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

// stripeStateName keeps the Stripe stand-in's sessions across restarts, beside the -standins file (.dev/local/stripe-standin.json).
const stripeStateName = "stripe-standin.json"

// standins are the local Graph API and Stripe servers; a URL stays empty
// when the user configured the real service (or another stand-in) instead.
type standins struct {
	GraphURL, StripeURL string
	port                int    // the dev server's
	file                string // where the URLs are written
	servers             []*http.Server
	callbacks           *graph.Callbacks
	stripe              *stripe.Server // nil when not stood in
	stripeState         string         // where stripe is saved at Close
	log                 *slog.Logger
}

// startStandins serves each stand-in on its own loopback port unless its
// base URL is configured, points the shop at it and writes the URLs to file.
func startStandins(ctx context.Context, server config.Server, file string, log *slog.Logger) (*standins, error) {
	s := &standins{port: server.Port, file: file, log: log}
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
		url, err := s.serve(s.callbacks, "", log)
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
		// Postgres keeps its orders across restarts; the sessions they point
		// at must outlive the process too.
		s.stripe, s.stripeState = st, filepath.Join(filepath.Dir(file), stripeStateName)
		loadStripeState(st, s.stripeState, log)
		url, err := s.serve(st, previousPort(st), log)
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

// serve listens on port, or on any free port when port is "" or taken.
func (s *standins) serve(h http.Handler, port string, log *slog.Logger) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil && port != "" {
		log.Warn("stand-in cannot listen where it did; links to there will fail", slog.String("port", port), slog.String("error", err.Error()))
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
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

// Close stops the stand-ins, saves the Stripe stand-in's state and forgets
// where they were.
func (s *standins) Close() {
	for _, srv := range s.servers {
		_ = srv.Close()
	}
	if s.callbacks != nil {
		s.callbacks.Close()
	}
	// Saved once the servers are closed, so no call lands after the snapshot.
	if s.stripe != nil {
		if err := saveStripeState(s.stripe, s.stripeState); err != nil {
			s.log.Error("stripe stand-in state not saved", slog.String("error", err.Error()))
		}
	}
	_ = os.Remove(s.file)
}

// loadStripeState restores st from file when an earlier run saved it. A
// file that cannot be read is reported, not fatal: the dev server starts
// with no Stripe sessions and overwrites the file at Close.
func loadStripeState(st *stripe.Server, file string, log *slog.Logger) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err == nil {
		defer f.Close()
		err = st.Load(f)
	}
	if err != nil {
		log.Warn("stripe stand-in starts empty", slog.String("file", file), slog.String("error", err.Error()))
	}
}

// saveStripeState writes st to a temporary file renamed over file, so a
// crash mid-write leaves the previous state whole.
func saveStripeState(st *stripe.Server, file string) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save %s: %w", file, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	err = st.Save(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		return fmt.Errorf("save %s: %w", file, err)
	}
	return nil
}

// previousPort is the port the restored sessions' pay links name, or ""
// when none is open. The shop stored those links with its orders and sent
// them in chat, so the stand-in listens there again when it can.
func previousPort(st *stripe.Server) string {
	sessions := st.Sessions()
	for i := len(sessions) - 1; i >= 0; i-- {
		if sessions[i].URL == nil {
			continue
		}
		if u, err := url.Parse(*sessions[i].URL); err == nil && u.Port() != "" {
			return u.Port()
		}
	}
	return ""
}
