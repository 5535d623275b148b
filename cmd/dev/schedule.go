package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/wa-shop/shop/pkg/cleanup"
)

// scheduleFile is where Netlify reads cleanup's schedule, and so do we.
const scheduleFile = "netlify.toml"

// startSchedule runs cleanup locally as Netlify's scheduler runs it in
// production: on the schedule netlify.toml declares, a POST with
// {"next_run": …} to the function. It authenticates with ADMIN_API_KEY
// rather than the scheduler's header, so it goes through the same check a
// manual run does. Only the schedules "* * * * *" and "*/N * * * *" are
// supported (see cleanup.Schedule); anything else is reported and not run.
func startSchedule(ctx context.Context, port int, log *slog.Logger, stdout io.Writer) {
	raw, err := os.ReadFile(scheduleFile)
	var expr string
	if err == nil {
		expr, err = cleanup.NetlifySchedule(raw, "cleanup")
	}
	var sched cleanup.Schedule
	if err == nil {
		sched, err = cleanup.ParseSchedule(expr)
	}
	if err != nil {
		fmt.Fprintf(stdout, "Cleanup is not scheduled locally: %v\n\n", err)
		return
	}
	fmt.Fprintf(stdout, "Cleanup runs on netlify.toml's schedule %q (UTC).\n\n", sched.Expr)
	url := fmt.Sprintf("http://127.0.0.1:%d/.netlify/functions/cleanup", port)
	// A run takes at most 25 s; the margin covers the answer.
	client := &http.Client{Timeout: cleanup.DefaultTimeout + 10*time.Second}
	go func() {
		for {
			next := sched.Next(time.Now())
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			// Runs do not overlap here: the next one waits for this one,
			// as a cron job that fires every N minutes would not.
			invoke(ctx, client, url, sched.Next(next), log)
		}
	}()
}

// invoke makes one scheduled call and logs how it went; the run logs its
// own report.
func invoke(ctx context.Context, client *http.Client, url string, nextRun time.Time, log *slog.Logger) {
	body := fmt.Sprintf(`{"next_run":%q}`, nextRun.UTC().Format("2006-01-02T15:04:05.000Z"))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		log.Error("scheduled cleanup", slog.String("error", err.Error()))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+os.Getenv("ADMIN_API_KEY"))
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("scheduled cleanup", slog.String("error", err.Error()))
		}
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	level := slog.LevelInfo
	if resp.StatusCode != http.StatusOK {
		level = slog.LevelError
	}
	log.Log(ctx, level, "scheduled cleanup", slog.Int("status", resp.StatusCode))
}
