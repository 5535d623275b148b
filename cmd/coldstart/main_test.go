//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
)

// The test binary doubles as the function under measurement: run with
// helperEnv set (coldstart passes it with -env), it is a lambda.Start main.
const helperEnv = "COLDSTART_TEST_FUNCTION"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		runFunction(mode)
		return
	}
	os.Exit(m.Run())
}

func runFunction(mode string) {
	switch mode {
	case "exit": // as app.Lambda does on a configuration error
		os.Stderr.WriteString(`{"level":"ERROR","msg":"cannot start","error":"VERIFY_TOKEN is required"}` + "\n")
		os.Exit(1)
	case "initerror":
		api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		if res, err := http.Post(api, "application/json", strings.NewReader(`{"errorType":"ConfigError","errorMessage":"bad"}`)); err == nil {
			res.Body.Close()
		}
		os.Exit(1)
	case "hang":
		time.Sleep(time.Hour)
	case "string":
		lambda.Start(func() (string, error) { return "not a proxy response", nil })
	case "webhook", "webhook-silent", "webhook-flaky":
		runWebhook(mode)
	}
	lambda.Start(serve)
}

// serve answers the status the event asks for, or 500 when the environment
// is not Lambda's: that checks both the event and the environment get there.
func serve(req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	if os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") != "1024" || os.Getenv("TZ") != ":UTC" || os.Getenv("HOME") != "" {
		return events.APIGatewayProxyResponse{StatusCode: 500, Body: "not Lambda's environment"}, nil
	}
	status, err := strconv.Atoi(req.QueryStringParameters["status"])
	if err != nil {
		return events.APIGatewayProxyResponse{StatusCode: 400}, nil
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Body: os.Getenv("GREETING")}, nil
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, []byte(`{"httpMethod":"GET","path":"/","queryStringParameters":{"status":"202"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The directory form: the test binary's name is coldstart.test.
	eventDir := filepath.Join(dir, "events")
	os.Mkdir(eventDir, 0o755)
	if err := os.WriteFile(filepath.Join(eventDir, functionName(os.Args[0])+".json"), []byte(`{"queryStringParameters":{"status":"418"}}`), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		args       []string
		wantRuns   string
		wantStatus string
		wantErr    bool
	}{
		{"answers", []string{"-runs", "3", "-event", event, "-env", helperEnv + "=serve"}, "3/3", "202", false},
		{"event directory", []string{"-runs", "1", "-event", eventDir, "-env", helperEnv + "=serve"}, "1/1", "418", false},
		{"exits at init", []string{"-runs", "3", "-event", event, "-env", helperEnv + "=exit"}, "0/3", "FAILED: exited", true},
		{"reports init error", []string{"-runs", "1", "-event", event, "-env", helperEnv + "=initerror"}, "0/1", "FAILED: init error", true},
		{"never polls", []string{"-runs", "1", "-timeout", "300ms", "-event", event, "-env", helperEnv + "=hang"}, "0/1", "FAILED: timeout", true},
		{"not an API Gateway response", []string{"-runs", "1", "-event", event, "-env", helperEnv + "=string"}, "0/1", "FAILED: bad response", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append(tt.args, os.Args[0]), &stdout, &stderr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("run error = %v, want error %v\nstderr:\n%s", err, tt.wantErr, stderr.String())
			}
			row := tableRow(t, stdout.String(), functionName(os.Args[0]))
			got := []string{row[2], row[8]} // runs, status
			if diff := cmp.Diff([]string{tt.wantRuns, tt.wantStatus}, got); diff != "" {
				t.Errorf("runs, status (-want +got):\n%s\n%s", diff, stdout.String())
			}
			if !tt.wantErr {
				for _, cell := range row[3:8] { // the times and the RSS
					if v, err := strconv.ParseFloat(cell, 64); err != nil || v <= 0 {
						t.Errorf("cell %q is not a positive number\n%s", cell, stdout.String())
					}
				}
			}
		})
	}
}

// tableRow finds name's row in a markdown table and returns its cells.
func tableRow(t *testing.T, table, name string) []string {
	t.Helper()
	for line := range strings.Lines(table) {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) < 3 {
			continue
		}
		cells = cells[1 : len(cells)-1]
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cells[0] == name {
			return cells
		}
	}
	t.Fatalf("no row for %s in\n%s", name, table)
	return nil
}

func TestArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no binaries", []string{"-event", "e.json"}},
		{"no event", []string{"bin"}},
		{"env without =", []string{"-event", "e.json", "-env", "VERIFY_TOKEN", "bin"}},
		{"no runs", []string{"-runs", "0", "-event", "e.json", "bin"}},
		{"missing binary", []string{"-event", "testdata", "no/such/bootstrap"}},
		{"no event for the binary", []string{"-event", "testdata", os.Args[0]}},
		{"load and event", []string{"-load", "10", "-event", "e.json", "bin"}},
		{"negative load", []string{"-load", "-1", "bin"}},
		{"no load events for the binary", []string{"-load", "10", os.Args[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), tt.args, &out, &out); err == nil {
				t.Errorf("run(%q) succeeded, want an error", tt.args)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var sorted []time.Duration
	for i := 1; i <= 20; i++ {
		sorted = append(sorted, time.Duration(i))
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{{0.5, 10}, {0.9, 18}, {1, 20}, {0, 1}}
	for _, tt := range tests {
		if got := percentile(sorted, tt.p); got != tt.want {
			t.Errorf("percentile(1..20, %v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile([]time.Duration{7}, 0.9); got != 7 {
		t.Errorf("percentile of one = %v, want 7", got)
	}
}

func TestFunctionName(t *testing.T) {
	for path, want := range map[string]string{
		"/work/dist/functions/webhook/bootstrap": "webhook",
		"/tmp/cleanup":                           "cleanup",
	} {
		if got := functionName(path); got != want {
			t.Errorf("functionName(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestSampleEvents keeps the sample events loadable as the functions'
// event type, one per function.
func TestSampleEvents(t *testing.T) {
	for _, name := range []string{"webhook", "payment-callback", "create-order-proxy", "cleanup"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Errorf("%s.json: %v", name, err)
		}
		if want := "/.netlify/functions/" + name; ev.Path != want {
			t.Errorf("%s.json: path = %q, want %q", name, ev.Path, want)
		}
	}
}
