package cleanup

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"github.com/wa-shop/shop/pkg/httpx"
)

// HandlerOptions decide who may trigger a run.
type HandlerOptions struct {
	AdminKey string
	// TrustScheduleHeader accepts Netlify's scheduled invocations, marked
	// `X-NF-Event: schedule`. Only the Lambda main sets it: Netlify does not
	// route public URL requests to scheduled functions, so on Netlify the
	// header can only come from the scheduler (or, locally, the Netlify
	// CLI, which marks any call to a scheduled function the same way).
	// Anywhere else the admin key is required.
	TrustScheduleHeader bool
}

// NewHandler serves POST /cleanup.
func NewHandler(r *Runner, opts HandlerOptions, log *slog.Logger) http.Handler {
	return httpx.Handle(log, func(w http.ResponseWriter, req *http.Request) error {
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			return httpx.Errorf(http.StatusMethodNotAllowed, "method not allowed")
		}
		if !authorized(req, opts) {
			return httpx.Wrap(http.StatusUnauthorized, "unauthorized", ErrUnauthorized)
		}
		report, err := r.Run(req.Context())
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, report)
		return nil
	})
}

func authorized(req *http.Request, opts HandlerOptions) bool {
	if opts.TrustScheduleHeader && strings.EqualFold(req.Header.Get("X-Nf-Event"), "schedule") {
		return true
	}
	key, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	return ok && opts.AdminKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(opts.AdminKey)) == 1
}
