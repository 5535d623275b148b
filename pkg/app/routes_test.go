package app

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wa-shop/shop/pkg/testenv"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

func setTestEnv(t *testing.T) {
	_, dbURL := testenv.DBWithURL(t)
	_, redisURL := testenv.RedisWithURL(t)
	for k, v := range map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": redisURL,
		"VERIFY_TOKEN": "tok", "WHATSAPP_APP_SECRET": "sec", "WHATSAPP_PHONE_NUMBER_ID": "1",
		"STRIPE_WEBHOOK_SECRET": "whsec_x", "ADMIN_API_KEY": "adm", "BACKEND_MODE": "inline",
		"ORDER_API_KEY": "ord", "STRIPE_SECRET": "sk_test_x", "WHATSAPP_ACCESS_TOKEN": "wa",
	} {
		t.Setenv(k, v)
	}
}

func TestRoutesServeEveryFunctionAndShortPath(t *testing.T) {
	setTestEnv(t)
	routes, err := Routes(t.Context(), slog.New(slog.DiscardHandler), false)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(routes)
	defer srv.Close()

	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	tests := []struct {
		name, method, path string
		body               []byte
		header             http.Header
		wantStatus         int
		wantBody           string
	}{
		{"handshake", "GET", "/.netlify/functions/webhook?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=7", nil, nil, 200, "7"},
		{"handshake short path", "GET", "/webhook?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=8", nil, nil, 200, "8"},
		{"signed notification", "POST", "/webhook", body, http.Header{whatsapp.SignatureHeader: {whatsapp.SignatureHeaderValue(body, "sec")}}, 200, ""},
		{"unsigned notification", "POST", "/webhook", body, nil, 401, ""},
		{"stripe without signature", "POST", "/payment-callback", []byte(`{}`), nil, 400, ""},
		{"create-order without the key", "POST", "/create-order", []byte(`{}`), nil, 401, ""},
		{"create-order with nothing to order", "POST", "/create-order", []byte(`{"items":[]}`), http.Header{"Authorization": {"Bearer ord"}}, 400, ""},
		{"cleanup without auth", "POST", "/.netlify/functions/cleanup", nil, nil, 401, ""},
		{"cleanup with schedule header on the backend", "POST", "/.netlify/functions/cleanup", nil, http.Header{"X-Nf-Event": {"schedule"}}, 401, ""},
		{"cleanup as admin rebuilds", "POST", "/.netlify/functions/cleanup", nil, http.Header{"Authorization": {"Bearer adm"}}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, bytes.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, got)
			}
			if tt.wantBody != "" && string(got) != tt.wantBody {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
		})
	}
}

func TestBuildersNameEveryMissingVariable(t *testing.T) {
	for _, k := range []string{"VERIFY_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_ACCESS_TOKEN",
		"STRIPE_SECRET", "DATABASE_URL", "REDIS_URL"} {
		t.Setenv(k, "")
	}
	_, err := Webhook(t.Context(), slog.New(slog.DiscardHandler))
	want := "configuration: DATABASE_URL is required; REDIS_URL is required; STRIPE_SECRET is required; " +
		"VERIFY_TOKEN is required; WHATSAPP_ACCESS_TOKEN is required; WHATSAPP_APP_SECRET is required; " +
		"WHATSAPP_PHONE_NUMBER_ID is required"
	if err == nil || err.Error() != want {
		t.Errorf("Webhook() error = %v, want %q", err, want)
	}
}
