//go:build linux

package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// printTable writes one markdown row per binary.
func printTable(w io.Writer, reports []report, runs int) {
	var rows [][]string
	for _, r := range reports {
		cells := []string{r.fn.name, fmt.Sprintf("%.1f", float64(r.fn.size)/(1<<20)),
			fmt.Sprintf("%d/%d", len(r.samples), runs)}
		if len(r.samples) == 0 {
			cells = append(cells, "–", "–", "–", "–", "–")
		} else {
			inits, totals := durations(r.samples)
			cells = append(cells, ms(percentile(inits, 0.5)), ms(percentile(totals, 0.5)),
				ms(percentile(totals, 0.9)), ms(totals[len(totals)-1]), mib(peakRSS(r.samples)))
		}
		rows = append(rows, append(cells, statuses(r)))
	}
	writeTable(w, []string{"function", "size (MB)", "runs", "init p50 (ms)", "cold start p50 (ms)", "p90 (ms)", "max (ms)", "peak RSS (MiB)", "status"},
		[]string{"---", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "---"}, rows)
}

// printLoadTable writes one markdown row per binary under load. Latency is
// per invocation; the rate is invocations over the time from the end of
// Init to the last answer, one invocation at a time.
func printLoadTable(w io.Writer, reports []loadReport, n int) {
	var rows [][]string
	for _, r := range reports {
		cells := []string{r.fn.name, fmt.Sprintf("%d/%d", len(r.samples), n)}
		if len(r.samples) < n {
			cells = append(cells, "–", "–", "–", "–", "–", "–")
		} else {
			_, totals := durations(r.samples)
			cells = append(cells, fmt.Sprintf("%.0f", float64(len(totals))/r.elapsed.Seconds()),
				ms(percentile(totals, 0.5)), ms(percentile(totals, 0.99)), ms(totals[len(totals)-1]),
				mib(r.peakRSS), replies(r))
		}
		rows = append(rows, append(cells, statuses(r.report)))
	}
	writeTable(w, []string{"function", "invocations", "per s", "p50 (ms)", "p99 (ms)", "max (ms)", "peak RSS (MiB)", "replies", "status"},
		[]string{"---", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "---"}, rows)
}

// writeTable writes a markdown table. tabwriter pads the cells, so it reads
// well in a terminal and pastes as is into a .md file.
func writeTable(w io.Writer, header, align []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for _, cells := range append([][]string{header, align}, rows...) {
		fmt.Fprintf(tw, "| %s\t|\n", strings.Join(cells, "\t| "))
	}
	_ = tw.Flush()
}

// replies is "2000/2000": sends the Graph stand-in accepted of those the
// events called for, or "–" when they called for none and none came.
func replies(r loadReport) string {
	if r.want == 0 && r.replies == 0 {
		return "–"
	}
	return fmt.Sprintf("%d/%d", r.replies, r.want)
}

// durations returns the init and total times of samples, each sorted.
func durations(samples []sample) (inits, totals []time.Duration) {
	for _, s := range samples {
		inits = append(inits, s.init)
		totals = append(totals, s.total)
	}
	slices.Sort(inits)
	slices.Sort(totals)
	return inits, totals
}

// percentile is the nearest-rank percentile of sorted: a time one of the
// runs took, never an interpolation between two.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func peakRSS(samples []sample) int64 {
	var peak int64
	for _, s := range samples {
		peak = max(peak, s.maxRSS)
	}
	return peak
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func mib(kib int64) string { return fmt.Sprintf("%.1f", float64(kib)/1024) }

// statuses is "200" when every run got the same status, "200 ×19, 502 ×1"
// otherwise, followed by the failure that stopped the runs, if any.
func statuses(r report) string {
	counts := map[string]int{}
	var order []string
	for _, s := range r.samples {
		if counts[s.status] == 0 {
			order = append(order, s.status)
		}
		counts[s.status]++
	}
	var parts []string
	for _, st := range order {
		if len(order) == 1 {
			parts = append(parts, st)
		} else {
			parts = append(parts, fmt.Sprintf("%s ×%d", st, counts[st]))
		}
	}
	if r.err != nil {
		parts = append(parts, "FAILED: "+r.err.kind)
	}
	return strings.Join(parts, ", ")
}
