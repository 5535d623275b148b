package cleanup

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/inventory"
)

func TestHandlerRunsForTheSchedulerOrAnAdmin(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5}, 1000)
	scheduled := http.Header{"X-Nf-Event": {"schedule"}}
	admin := http.Header{"Authorization": {"Bearer adm"}}
	tests := []struct {
		name       string
		trust      bool
		method     string
		header     http.Header
		wantStatus int
	}{
		{"scheduler on Netlify", true, "POST", scheduled, 200},
		{"schedule header elsewhere", false, "POST", scheduled, 401},
		{"netlify functions:invoke", true, "POST", http.Header{"User-Agent": {"Netlify Clockwork"}}, 200},
		{"netlify functions:invoke elsewhere", false, "POST", http.Header{"User-Agent": {"Netlify Clockwork"}}, 401},
		{"admin", false, "POST", admin, 200},
		{"wrong key", true, "POST", http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"nobody", true, "POST", nil, 401},
		{"GET", true, "GET", admin, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(NewHandler(h.runner, HandlerOptions{AdminKey: "adm", TrustScheduleHeader: tt.trust}, slog.New(slog.DiscardHandler)))
			defer srv.Close()
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL, strings.NewReader(`{"next_run":"2026-11-27T12:01:00.000Z"}`))
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus == 200 {
				var rep Report
				if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
					t.Errorf("report: %v", err)
				}
			}
		})
	}
}

func TestHandlerAnswers503WhenRedisIsDown(t *testing.T) {
	h := newHarness(t, map[string]int{"TEE-M": 5}, 1000)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	svc := *h.svc
	svc.Inventory = inventory.New(redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1}), h.clock.Now)
	runner := *h.runner
	runner.Orders = &svc
	srv := httptest.NewServer(NewHandler(&runner, HandlerOptions{AdminKey: "adm"}, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL, nil)
	req.Header.Set("Authorization", "Bearer adm")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 503 || strings.Contains(fmt.Sprint(body), addr) {
		t.Errorf("status %d %v; want 503 and no internals", resp.StatusCode, body)
	}
}
