package whatsapp

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

const (
	testSecret = "app-secret"
	testToken  = "verify-me"
)

func newTestWebhook() http.Handler {
	return NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: testToken, PhoneNumberID: "106540352242922"},
		nopInbox{}, slog.New(slog.DiscardHandler))
}

// nopInbox accepts every delivery: these tests are about the edge.
type nopInbox struct{}

func (nopInbox) Receive(context.Context, *Batch) error { return nil }

func TestVerificationHandshake(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantBody   string
	}{
		{"right token", "hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", 200, "1158201444"},
		{"wrong token", "hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1", 403, ""},
		{"missing token", "hub.mode=subscribe&hub.challenge=1", 403, ""},
		{"wrong mode", "hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			newTestWebhook().ServeHTTP(rec, httptest.NewRequest("GET", "/webhook?"+tt.query, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", rec.Body.String(), tt.wantBody)
			}
			if tt.wantStatus == 200 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestNotificationEdge(t *testing.T) {
	golden, err := os.ReadFile("testdata/text_message.json")
	if err != nil {
		t.Fatal(err)
	}
	huge := bytes.Repeat([]byte("a"), MaxBodyBytes+1)
	tests := []struct {
		name       string
		body       []byte
		signature  string
		wantStatus int
	}{
		{"signed golden payload", golden, SignatureHeaderValue(golden, testSecret), 200},
		{"missing signature", golden, "", 401},
		{"signed with another secret", golden, SignatureHeaderValue(golden, "other"), 401},
		{"signature of other bytes", golden, SignatureHeaderValue(append(golden, ' '), testSecret), 401},
		{"not hex", golden, "sha256=zz", 401},
		{"sha1 scheme", golden, "sha1=" + strings.Repeat("0", 40), 401},
		{"malformed JSON, signed", []byte(`{"object":`), SignatureHeaderValue([]byte(`{"object":`), testSecret), 400},
		{"other object, signed", []byte(`{"object":"page"}`), SignatureHeaderValue([]byte(`{"object":"page"}`), testSecret), 400},
		{"over 3 MB", huge, SignatureHeaderValue(huge, testSecret), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(tt.body))
			if tt.signature != "" {
				req.Header.Set(SignatureHeader, tt.signature)
			}
			rec := httptest.NewRecorder()
			newTestWebhook().ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				body, _ := io.ReadAll(rec.Body)
				t.Errorf("status = %d, want %d (%s)", rec.Code, tt.wantStatus, body)
			}
		})
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account"}`), "sha256=00")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		err := VerifySignature(body, header, testSecret)
		if err == nil && strings.ToLower(header) != SignatureHeaderValue(body, testSecret) {
			t.Errorf("accepted header %q for a body it does not sign", header)
		}
		if err := VerifySignature(body, SignatureHeaderValue(body, testSecret), testSecret); err != nil {
			t.Errorf("rejected its own signature: %v", err)
		}
	})
}
