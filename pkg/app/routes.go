package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// Function names, as Netlify serves them under /.netlify/functions/.
var functionNames = []string{"webhook", "payment-callback", "create-order-proxy", "cleanup"}

// shortPaths are the pretty paths netlify.toml rewrites to the functions.
var shortPaths = map[string]string{
	"/webhook":          "webhook",
	"/payment-callback": "payment-callback",
	"/create-order":     "create-order-proxy",
}

// Routes mounts every function the way Netlify serves them, plus the short
// paths, for the dev server and the dedicated backend. trustSchedule is
// passed to Cleanup.
func Routes(ctx context.Context, log *slog.Logger, trustSchedule bool) (http.Handler, error) {
	builders := map[string]Builder{
		"webhook":            Webhook,
		"payment-callback":   PaymentCallback,
		"create-order-proxy": CreateOrder,
		"cleanup":            Cleanup(trustSchedule),
	}
	mux := http.NewServeMux()
	handlers := map[string]http.Handler{}
	var errs []error
	for _, name := range functionNames {
		h, err := builders[name](ctx, log.With(slog.String("function", name)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		handlers[name] = h
		mux.Handle("/.netlify/functions/"+name, h)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for path, name := range shortPaths {
		mux.Handle(path, handlers[name])
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux, nil
}
