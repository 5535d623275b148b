// Package cleanup is the shop's self-healing run: lapsed holds, the outbox
// retry and Redis reconciliation. This first version reconciles only: it
// rebuilds Redis from Postgres when the epoch marker is missing.
package cleanup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/inventory"
)

// Report says what one run did; it is logged as one line and returned to the
// caller.
type Report struct {
	Rebuilt      bool          `json:"rebuilt"`
	SKUs         int           `json:"skus"`
	Holds        int           `json:"holds"`
	Took         time.Duration `json:"-"`
	TookMillisec int64         `json:"took_ms"`
}

// Runner runs cleanup against the shop's stores.
type Runner struct {
	DB    *pgxpool.Pool
	Redis redis.UniversalClient
	Log   *slog.Logger
}

// Run does one bounded pass; a dependency failure is returned so the caller
// reports it (the next scheduled run tries again).
func (c *Runner) Run(ctx context.Context) (Report, error) {
	start := time.Now()
	var report Report
	missing, err := c.Redis.Exists(ctx, inventory.EpochKey).Result()
	if err != nil {
		return report, fmt.Errorf("check epoch: %w", err)
	}
	if missing == 0 {
		res, err := inventory.Rebuild(ctx, c.DB, c.Redis)
		if err != nil {
			return report, err
		}
		report = Report{Rebuilt: true, SKUs: res.SKUs, Holds: res.Holds}
	}
	report.Took = time.Since(start)
	report.TookMillisec = report.Took.Milliseconds()
	c.Log.InfoContext(ctx, "cleanup run", slog.Bool("rebuilt", report.Rebuilt),
		slog.Int("skus", report.SKUs), slog.Int("holds", report.Holds), slog.Int64("took_ms", report.TookMillisec))
	return report, nil
}

// ErrUnauthorized is returned for a caller that is neither the scheduler
// nor an admin.
var ErrUnauthorized = errors.New("cleanup: caller is neither Netlify's scheduler nor an admin")
