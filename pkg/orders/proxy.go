// Package orders turns a customer's selection into a provisional, held,
// payable order.
package orders

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/wa-shop/shop/pkg/httpx"
)

// proxyTimeout stays well below Netlify's 60 s for synchronous functions,
// so a slow backend still gets a clear 504 from us.
const proxyTimeout = 25 * time.Second

// maxRequestBytes bounds a create-order body; real ones are tiny.
const maxRequestBytes = 64 << 10

// NewProxy forwards create-order requests to the dedicated backend
// (BACKEND_MODE=proxy), signed with the shared secret. The caller's
// Idempotency-Key travels along, or one is made and returned, so the
// caller can retry safely. The backend's status and body come back as they
// are. Only order creation moves; the other functions always talk to
// Postgres and Redis themselves.
func NewProxy(backend *url.URL, sharedSecret string, now func() time.Time, log *slog.Logger) http.Handler {
	target := backend.JoinPath("create-order").String()
	client := httpx.NewClient(proxyTimeout)
	return httpx.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			return httpx.Errorf(http.StatusMethodNotAllowed, "method not allowed")
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		if err != nil {
			return httpx.Wrap(http.StatusRequestEntityTooLarge, "body too large", err)
		}
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			key = uuid.NewString()
		}
		out, err := http.NewRequestWithContext(r.Context(), http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return err
		}
		out.Header.Set("Content-Type", "application/json")
		out.Header.Set("Idempotency-Key", key)
		out.Header.Set(SignatureHeader, SignBackendRequest(body, sharedSecret, now()))
		if auth := r.Header.Get("Authorization"); auth != "" {
			out.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(out)
		if err != nil {
			return backendError(err)
		}
		defer resp.Body.Close()
		w.Header().Set("Idempotency-Key", key)
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		w.WriteHeader(resp.StatusCode)
		_, err = io.Copy(w, resp.Body)
		return err
	})
}

func backendError(err error) error {
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return httpx.Wrap(http.StatusGatewayTimeout, "order backend did not answer in time, retry with the same Idempotency-Key", err)
	}
	return httpx.Wrap(http.StatusBadGateway, "order backend unreachable, retry with the same Idempotency-Key", err)
}
