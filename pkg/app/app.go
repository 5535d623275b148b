// Package app wires endpoints from the environment. The Lambda mains, the
// dedicated backend, the dev server and the tests all build handlers here, so
// they run the very same code.
package app

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/lambdahttp"
)

// Builder makes one endpoint from the environment, reading only the
// variables it uses.
type Builder func(ctx context.Context, log *slog.Logger) (http.Handler, error)

// NewLogger logs JSON lines to stdout, where Netlify collects them.
func NewLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// Lambda is a function main: build once per cold start, then serve events.
// A configuration error ends the process with one line naming every bad
// variable, which Netlify shows as the function's init error.
func Lambda(build Builder) {
	var logging config.Logging
	level := slog.LevelInfo
	if err := config.Load(&logging); err == nil {
		level = logging.SlogLevel()
	}
	log := NewLogger(level)
	h, err := build(context.Background(), log)
	if err != nil {
		log.Error("cannot start", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambdahttp.Start(h)
}
