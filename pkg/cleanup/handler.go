package cleanup

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/wa-shop/shop/pkg/httpx"
)

// ErrUnauthorized is returned for a caller that is neither the scheduler
// nor an admin.
var ErrUnauthorized = errors.New("cleanup: caller is neither Netlify's scheduler nor an admin")

// HandlerOptions decide who may trigger a run.
type HandlerOptions struct {
	AdminKey string
	// TrustScheduleHeader accepts Netlify's scheduled invocations, marked
	// `X-NF-Event: schedule`, and `netlify functions:invoke`'s, marked
	// `User-Agent: Netlify Clockwork`. Only the Lambda main and the local
	// dev server set it: Netlify does not route public URL requests to
	// scheduled functions, so on Netlify the marks can only come from the
	// scheduler (locally, the Netlify CLI marks any call to a scheduled
	// function the same way). Anywhere else the admin key is required.
	TrustScheduleHeader bool
}

// NewHandler serves POST /cleanup: one run, answered with its report. The
// scheduler's body ({"next_run": …}) says nothing the run needs. The run's
// own deadline (Options.Timeout, 25 s) keeps it inside the 30 s Netlify
// gives a scheduled function, with time left to answer.
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
			// Postgres or Redis failed; the run logged its report.
			return httpx.Wrap(http.StatusServiceUnavailable, "cleanup did not finish, see the log", err)
		}
		httpx.WriteJSON(w, http.StatusOK, report)
		return nil
	})
}

// clockworkUserAgent is how netlify-cli's functions:invoke marks a call to
// a scheduled function (netlify-cli utils/functions/constants.js).
const clockworkUserAgent = "Netlify Clockwork"

func authorized(req *http.Request, opts HandlerOptions) bool {
	if opts.TrustScheduleHeader && (strings.EqualFold(req.Header.Get("X-Nf-Event"), "schedule") ||
		req.Header.Get("User-Agent") == clockworkUserAgent) {
		return true
	}
	key, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	return ok && opts.AdminKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(opts.AdminKey)) == 1
}
