package orders

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// proxyTo builds create-order-proxy for a backend at rawURL.
func proxyTo(t *testing.T, rawURL string) http.Handler {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return NewProxy(u, "shared", time.Now, slog.New(slog.DiscardHandler))
}

func postOrder(h http.Handler) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/create-order", bytes.NewReader([]byte(`{"items":[{"sku":"TEE","quantity":1}]}`)))
	req.Header.Set("Authorization", "Bearer the-order-api-key")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// The backend gets the proxy's signature over the key and body, never the
// caller's ORDER_API_KEY; the caller gets the key back.
func TestProxySignsTheKeyAndKeepsTheCallersAPIKey(t *testing.T) {
	var got *http.Request
	var body []byte
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(backend.Close)
	rec := postOrder(proxyTo(t, backend.URL))
	key := rec.Header().Get("Idempotency-Key")
	if rec.Code != 201 || key == "" || got.Header.Get("Idempotency-Key") != key {
		t.Fatalf("status %d, key %q returned and %q forwarded", rec.Code, key, got.Header.Get("Idempotency-Key"))
	}
	if auth := got.Header.Get("Authorization"); auth != "" {
		t.Errorf("the backend got the caller's Authorization %q", auth)
	}
	sig := got.Header.Get(SignatureHeader)
	if err := VerifyBackendRequest(key, body, sig, "shared", time.Now()); err != nil {
		t.Errorf("signature: %v", err)
	}
	if err := VerifyBackendRequest(key+"-other", body, sig, "shared", time.Now()); err == nil {
		t.Error("the signature also passes under another Idempotency-Key")
	}
}

// When the backend cannot be reached the order may still exist: the caller
// must get the key to retry with.
func TestProxyReturnsTheKeyWhenTheBackendIsUnreachable(t *testing.T) {
	backend := httptest.NewServer(http.NotFoundHandler())
	backend.Close()
	rec := postOrder(proxyTo(t, backend.URL))
	if rec.Code != http.StatusBadGateway || rec.Header().Get("Idempotency-Key") == "" {
		t.Errorf("status %d, Idempotency-Key %q; want 502 with the key", rec.Code, rec.Header().Get("Idempotency-Key"))
	}
}

// A redirect from the backend comes back as it is: following it would
// resend the signed request elsewhere, or as a GET.
func TestProxyDoesNotFollowRedirects(t *testing.T) {
	elsewhere := 0
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere++ }))
	t.Cleanup(other.Close)
	backend := httptest.NewServer(http.RedirectHandler(other.URL, http.StatusTemporaryRedirect))
	t.Cleanup(backend.Close)
	if rec := postOrder(proxyTo(t, backend.URL)); rec.Code != http.StatusTemporaryRedirect || elsewhere != 0 {
		t.Errorf("status %d, %d requests to the redirect target; want 307 and none", rec.Code, elsewhere)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
