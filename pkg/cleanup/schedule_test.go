package cleanup

import (
	"os"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		expr  string
		every int // 0: refused
	}{
		{"* * * * *", 1},
		{"*/5 * * * *", 5},
		{"  */15   *  * * * ", 15},
		{"*/59 * * * *", 59},
		{"*/0 * * * *", 0},
		{"*/60 * * * *", 0},
		{"5 * * * *", 0},
		{"*/5 2 * * *", 0},
		{"0,30 * * * *", 0},
		{"@hourly", 0},
		{"* * * *", 0},
	}
	for _, tt := range tests {
		got, err := ParseSchedule(tt.expr)
		if got.Every != tt.every || (err == nil) != (tt.every > 0) {
			t.Errorf("ParseSchedule(%q) = %+v, %v; want every %d", tt.expr, got, err, tt.every)
		}
	}
}

func TestScheduleNext(t *testing.T) {
	at := func(h, m, s int) time.Time { return time.Date(2026, 11, 27, h, m, s, 0, time.UTC) }
	tests := []struct {
		every    int
		after    time.Time
		wantNext time.Time
	}{
		{1, at(12, 0, 0), at(12, 1, 0)},
		{1, at(12, 0, 59), at(12, 1, 0)},
		{5, at(12, 3, 10), at(12, 5, 0)},
		{5, at(12, 5, 0), at(12, 10, 0)},
		{7, at(12, 57, 0), at(13, 0, 0)},
		{15, at(23, 50, 0), at(0, 0, 0).AddDate(0, 0, 1)},
	}
	for _, tt := range tests {
		if got := (Schedule{Every: tt.every}).Next(tt.after); !got.Equal(tt.wantNext) {
			t.Errorf("every %d after %s = %s, want %s", tt.every, tt.after.Format("15:04:05"), got, tt.wantNext)
		}
	}
}

func TestNetlifySchedule(t *testing.T) {
	tests := []struct{ toml, want string }{
		{"[functions.cleanup]\n  schedule = \"*/2 * * * *\"\n", "*/2 * * * *"},
		{"[functions]\n  schedule = \"x\"\n[functions.\"cleanup\"] # the run\nschedule=\"* * * * *\" # every minute\n", "* * * * *"},
		{"[functions.webhook]\nschedule = \"* * * * *\"\n[functions.cleanup]\nmemory = 1\n", ""},
		{"# [functions.cleanup]\nschedule = \"* * * * *\"\n", ""},
	}
	for _, tt := range tests {
		got, err := NetlifySchedule([]byte(tt.toml), "cleanup")
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("NetlifySchedule(%q) = %q, %v; want %q", tt.toml, got, err, tt.want)
		}
	}
}

// The repository's own netlify.toml must stay readable by the dev server.
func TestTheRepositorysScheduleIsSupported(t *testing.T) {
	raw, err := os.ReadFile("../../netlify.toml")
	if err != nil {
		t.Fatal(err)
	}
	expr, err := NetlifySchedule(raw, "cleanup")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSchedule(expr); err != nil {
		t.Error(err)
	}
}
