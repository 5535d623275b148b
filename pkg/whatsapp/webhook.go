package whatsapp

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/wa-shop/shop/pkg/httpx"
)

// MaxBodyBytes is the largest webhook body accepted; Meta's batches are far
// smaller, so anything bigger is not Meta.
const MaxBodyBytes = 3 << 20

// WebhookConfig is what the webhook trusts.
type WebhookConfig struct {
	AppSecret     string
	VerifyToken   string
	PhoneNumberID string
}

// Inbox handles an authentic, parsed delivery. An error means some of it
// is not done yet: the delivery is answered 5xx so Meta sends it again.
type Inbox interface {
	Receive(ctx context.Context, b *Batch) error
}

// Webhook answers Meta's verification handshake (GET) and its signed
// notifications (POST).
type Webhook struct {
	cfg   WebhookConfig
	inbox Inbox
	log   *slog.Logger
}

// NewWebhook builds the webhook endpoint.
func NewWebhook(cfg WebhookConfig, inbox Inbox, log *slog.Logger) http.Handler {
	wh := &Webhook{cfg: cfg, inbox: inbox, log: log}
	return httpx.Handle(log, wh.serve)
}

func (wh *Webhook) serve(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet:
		return wh.verify(w, r)
	case http.MethodPost:
		return wh.notify(w, r)
	}
	w.Header().Set("Allow", "GET, POST")
	return httpx.Errorf(http.StatusMethodNotAllowed, "method not allowed")
}

// verify completes the subscription handshake: Meta sends the token we
// configured and expects the challenge back verbatim.
func (wh *Webhook) verify(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	token := []byte(q.Get("hub.verify_token"))
	if q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare(token, []byte(wh.cfg.VerifyToken)) != 1 {
		return httpx.Errorf(http.StatusForbidden, "verification failed")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := io.WriteString(w, q.Get("hub.challenge"))
	return err
}

func (wh *Webhook) notify(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return httpx.Errorf(http.StatusRequestEntityTooLarge, "body over %d bytes", MaxBodyBytes)
	}
	if err != nil {
		return httpx.Wrap(http.StatusBadRequest, "unreadable body", err)
	}
	if err := VerifySignature(body, r.Header.Get(SignatureHeader), wh.cfg.AppSecret); err != nil {
		return httpx.Wrap(http.StatusUnauthorized, "invalid signature", err)
	}
	batch, err := ParseNotification(body)
	if err != nil {
		return httpx.Wrap(http.StatusBadRequest, "not a WhatsApp Business Account notification", err)
	}
	if err := wh.inbox.Receive(r.Context(), batch); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
