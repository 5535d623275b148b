package cleanup

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is when cleanup runs, in the two cron forms a minute-scale
// schedule needs: "* * * * *" (every minute) and "*/N * * * *" (minutes
// divisible by N, 1 ≤ N ≤ 59), in UTC as Netlify reads them. The dev
// server runs cleanup on it; other cron forms (lists, ranges, hours,
// @hourly) are refused rather than misread.
type Schedule struct {
	Expr  string
	Every int // minutes
}

// ParseSchedule reads a cron expression of the forms Schedule supports.
func ParseSchedule(expr string) (Schedule, error) {
	fields := strings.Fields(expr)
	if len(fields) != 5 || strings.Join(fields[1:], " ") != "* * * *" {
		return Schedule{}, fmt.Errorf("schedule %q: only \"* * * * *\" and \"*/N * * * *\" are supported", expr)
	}
	if fields[0] == "*" {
		return Schedule{Expr: expr, Every: 1}, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(fields[0], "*/"))
	if !strings.HasPrefix(fields[0], "*/") || err != nil || n < 1 || n > 59 {
		return Schedule{}, fmt.Errorf("schedule %q: the minute field must be * or */N with N from 1 to 59", expr)
	}
	return Schedule{Expr: expr, Every: n}, nil
}

// Next is the first time the schedule fires strictly after t: the start of
// a minute whose number is divisible by Every, as cron's */N counts them
// (from 0 in each hour, so */7 fires at :56 and then at :00).
func (s Schedule) Next(t time.Time) time.Time {
	next := t.UTC().Truncate(time.Minute).Add(time.Minute)
	for next.Minute()%s.Every != 0 {
		next = next.Add(time.Minute)
	}
	return next
}

// NetlifySchedule finds the schedule netlify.toml gives a function:
//
//	[functions.cleanup]
//	  schedule = "* * * * *"
//
// It reads only this much TOML (a table header, a basic string, comments),
// which is all a schedule takes; an inline table or the schedule in code
// (which Go functions cannot have) is not found.
func NetlifySchedule(toml []byte, function string) (string, error) {
	headers := map[string]bool{"[functions." + function + "]": true, `[functions."` + function + `"]`: true}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(toml))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			in = headers[strings.Join(strings.Fields(stripComment(line)), "")]
			continue
		}
		key, value, ok := strings.Cut(stripComment(line), "=")
		if !in || !ok || strings.TrimSpace(key) != "schedule" {
			continue
		}
		s, err := strconv.Unquote(strings.TrimSpace(value))
		if err != nil {
			return "", fmt.Errorf("netlify.toml: schedule of %s is not a quoted string", function)
		}
		return s, nil
	}
	return "", fmt.Errorf("netlify.toml gives %s no schedule", function)
}

// stripComment drops a # comment that is not inside a quoted string.
func stripComment(line string) string {
	quoted := false
	for i, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case r == '#' && !quoted:
			return line[:i]
		}
	}
	return line
}
