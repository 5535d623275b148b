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
	// A redirect would resend the signed request elsewhere, or turn it
	// into a GET: the backend's answer, whatever it is, goes back as is.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return httpx.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			return httpx.Errorf(http.StatusMethodNotAllowed, "method not allowed")
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return httpx.Wrap(http.StatusRequestEntityTooLarge, "body too large", err)
		}
		if err != nil {
			return httpx.Wrap(http.StatusBadRequest, "unreadable body", err)
		}
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			key = uuid.NewString()
		}
		// Returned whatever happens: after a 502 or 504 the order may exist,
		// and only a retry with this key finds it instead of making another.
		w.Header().Set("Idempotency-Key", key)
		out, err := http.NewRequestWithContext(r.Context(), http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return err
		}
		out.Header.Set("Content-Type", "application/json")
		out.Header.Set("Idempotency-Key", key)
		// The signature is the backend's credential; the caller's
		// ORDER_API_KEY does not travel, so a captured request grants no
		// lasting access.
		out.Header.Set(SignatureHeader, SignBackendRequest(key, body, sharedSecret, now()))
		resp, err := client.Do(out)
		if err != nil {
			return backendError(err)
		}
		defer resp.Body.Close()
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
