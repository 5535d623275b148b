package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
)

// HandlerFunc is an endpoint that returns its failure instead of writing it,
// so the answer and the log line are made in one place.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle turns a HandlerFunc into an http.Handler that answers errors as JSON
// `{"error": …, "request_id": …}` and logs each failure once.
func Handle(log *slog.Logger, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestID(r)
		w.Header().Set("X-Request-Id", id)
		err := h(w, r)
		if err == nil {
			return
		}
		status, message := statusOf(err)
		level := slog.LevelWarn
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "request failed",
			slog.String("request_id", id), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("error", err.Error()))
		WriteJSON(w, status, map[string]string{"error": message, "request_id": id})
	})
}

// WriteJSON answers v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// requestID keeps an id the platform gave the request (Netlify sets
// x-nf-request-id) so our logs and theirs line up; otherwise it makes one.
func requestID(r *http.Request) string {
	for _, h := range []string{"X-Nf-Request-Id", "X-Request-Id"} {
		if id := r.Header.Get(h); id != "" && len(id) <= 128 {
			return id
		}
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
