// Package orders turns a customer's selection into a provisional, held,
// payable order.
package orders

import (
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/wa-shop/shop/pkg/httpx"
)

// SharedSecretHeader authenticates create-order-proxy to the dedicated
// backend.
const SharedSecretHeader = "X-Backend-Secret"

// NewProxy forwards create-order requests to the dedicated backend
// (BACKEND_MODE=proxy), adding the shared secret. Only order creation moves;
// the other functions always talk to Postgres and Redis themselves.
func NewProxy(backend *url.URL, sharedSecret string, log *slog.Logger) http.Handler {
	target := backend.JoinPath("create-order")
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target
			pr.Out.Host = target.Host
			pr.Out.Header.Set(SharedSecretHeader, sharedSecret)
		},
		// Netlify's synchronous functions have 60 s; leave room to answer.
		Transport: &http.Transport{ResponseHeaderTimeout: 50 * time.Second, MaxIdleConns: 2},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.ErrorContext(r.Context(), "backend unreachable", slog.String("error", err.Error()))
			httpx.WriteJSON(w, http.StatusBadGateway, map[string]string{"error": "order backend unreachable, retry later"})
		},
	}
	return proxy
}

// NewInline will run order creation inside the function; it arrives with the
// orders issue and answers 501 until then.
func NewInline(log *slog.Logger) http.Handler {
	return httpx.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		return httpx.Errorf(http.StatusNotImplemented, "inline order creation not implemented yet")
	})
}
