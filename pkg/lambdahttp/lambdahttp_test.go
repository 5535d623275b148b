package lambdahttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/wa-shop/shop/pkg/lambdahttp"
)

// readEvent loads a golden Netlify event from testdata (see testdata/README.md).
func readEvent(t *testing.T, name string) events.APIGatewayProxyRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var e events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return e
}

// captureLogs sends slog's default logger to a buffer for the rest of the test.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

// seen is what a handler can observe of the request it was given.
type seen struct {
	Method, Host, RequestURI, Path, RawPath, RemoteAddr, Body string
	Query                                                     url.Values
	Header                                                    map[string][]string // r.Header.Values of the names looked up
}

const whatsappMessage = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=","timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color?"}}]}}]}]}`

func TestHandlerRequest(t *testing.T) {
	tests := []struct {
		name   string
		file   string                        // golden event in testdata, or
		event  events.APIGatewayProxyRequest // an event built here
		lookup []string                      // header names, spelt as a handler might
		want   seen
	}{
		{
			name:   "whatsapp verification GET",
			file:   "whatsapp_verify_get.json",
			lookup: []string{"user-agent", "Host"},
			want: seen{
				Method:     "GET",
				Host:       "wa-shop.netlify.app",
				RequestURI: "/.netlify/functions/webhook?hub.challenge=123&hub.mode=subscribe&hub.verify_token=x",
				Path:       "/.netlify/functions/webhook",
				RemoteAddr: "203.0.113.7",
				Query:      url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"x"}, "hub.challenge": {"123"}},
				Header: map[string][]string{
					"user-agent": {"facebookexternalua"},
					"Host":       nil, // moved to r.Host, as net/http does
				},
			},
		},
		{
			name:   "whatsapp message POST JSON",
			file:   "whatsapp_message_post.json",
			lookup: []string{"X-HUB-SIGNATURE-256", "content-type"},
			want: seen{
				Method:     "POST",
				Host:       "wa-shop.netlify.app",
				RequestURI: "/.netlify/functions/webhook",
				Path:       "/.netlify/functions/webhook",
				RemoteAddr: "203.0.113.7",
				Body:       whatsappMessage,
				Query:      url.Values{},
				Header: map[string][]string{
					"X-HUB-SIGNATURE-256": {"sha256=6f2c0b1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"},
					"content-type":        {"application/json"},
				},
			},
		},
		{
			name:   "binary POST base64",
			file:   "binary_post.json",
			lookup: []string{"Content-Type"},
			want: seen{
				Method:     "POST",
				Host:       "wa-shop.netlify.app",
				RequestURI: "/.netlify/functions/create-order-proxy",
				Path:       "/.netlify/functions/create-order-proxy",
				RemoteAddr: "203.0.113.7",
				Body:       "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x04\x00\x00\x00\xb5\x1c\x0c\x02",
				Query:      url.Values{},
				Header:     map[string][]string{"Content-Type": {"application/octet-stream"}},
			},
		},
		{
			name:   "POST without content type arrives base64",
			file:   "no_content_type_post.json",
			lookup: []string{"Content-Type"},
			want: seen{
				Method:     "POST",
				Host:       "wa-shop.netlify.app",
				RequestURI: "/.netlify/functions/create-order-proxy",
				Path:       "/.netlify/functions/create-order-proxy",
				RemoteAddr: "203.0.113.7",
				Body:       "sku=TSHIRT-M&qty=2",
				Query:      url.Values{},
				Header:     map[string][]string{"Content-Type": nil},
			},
		},
		{
			name:   "multi-value headers and query",
			file:   "multi_value_get.json",
			lookup: []string{"accept"},
			want: seen{
				Method:     "GET",
				Host:       "wa-shop.netlify.app",
				RequestURI: "/.netlify/functions/create-order-proxy?note=gift+wrap+%26+card&sku=TSHIRT-M&sku=MUG",
				Path:       "/.netlify/functions/create-order-proxy",
				RemoteAddr: "203.0.113.7",
				Query:      url.Values{"sku": {"TSHIRT-M", "MUG"}, "note": {"gift wrap & card"}},
				// Not also "application/json, text/plain", the joined single value.
				Header: map[string][]string{"accept": {"application/json", "text/plain"}},
			},
		},
		{
			name:   "scheduled function call",
			file:   "scheduled_post.json",
			lookup: []string{"x-nf-event", "X-Amzn-Trace-Id", "User-Agent"},
			want: seen{
				Method:     "POST",
				Host:       "localhost:8888",
				RequestURI: "/.netlify/functions/cleanup",
				Path:       "/.netlify/functions/cleanup",
				RemoteAddr: "203.0.113.7",
				Body:       `{"next_run":"2026-11-27T17:00:00.000Z"}`,
				Query:      url.Values{},
				Header: map[string][]string{
					"x-nf-event":      {"schedule"},
					"X-Amzn-Trace-Id": {"1a2b3c4d5e6f"},
					// netlify-cli rewrites headers["user-agent"] but not
					// multiValueHeaders, and multiValueHeaders wins.
					"User-Agent": {"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)"},
				},
			},
		},
		{
			name: "percent-encoded path kept raw",
			file: "encoded_path_get.json",
			want: seen{
				Method:     "GET",
				Host:       "wa-shop.netlify.app",
				RequestURI: "/somePage/http%3A%2F%2Fexample.com%2F",
				Path:       "/somePage/http://example.com/",
				RawPath:    "/somePage/http%3A%2F%2Fexample.com%2F",
				RemoteAddr: "203.0.113.7",
				Query:      url.Values{},
				Header:     map[string][]string{},
			},
		},
		{
			name: "single-value maps only, mixed-case duplicate names",
			event: events.APIGatewayProxyRequest{
				HTTPMethod:            "GET",
				Path:                  "/.netlify/functions/webhook",
				Headers:               map[string]string{"x-request-id": "r1", "X-Request-Id": "r1", "HOST": "example.com"},
				QueryStringParameters: map[string]string{"hub.mode": "subscribe"},
			},
			lookup: []string{"X-REQUEST-ID"},
			want: seen{
				Method:     "GET",
				Host:       "example.com",
				RequestURI: "/.netlify/functions/webhook?hub.mode=subscribe",
				Path:       "/.netlify/functions/webhook",
				Query:      url.Values{"hub.mode": {"subscribe"}},
				Header:     map[string][]string{"X-REQUEST-ID": {"r1"}},
			},
		},
		{
			name: "API Gateway source IP, empty method and path",
			event: events.APIGatewayProxyRequest{
				Headers: map[string]string{"x-nf-client-connection-ip": "203.0.113.7"},
				RequestContext: events.APIGatewayProxyRequestContext{
					Identity: events.APIGatewayRequestIdentity{SourceIP: "198.51.100.2"},
				},
			},
			want: seen{
				Method:     "GET",
				RequestURI: "/",
				Path:       "/",
				RemoteAddr: "198.51.100.2",
				Query:      url.Values{},
				Header:     map[string][]string{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			event := tt.event
			if tt.file != "" {
				event = readEvent(t, tt.file)
			}
			var got seen
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					t.Errorf("read body: %v", err)
				}
				got = seen{
					Method:     r.Method,
					Host:       r.Host,
					RequestURI: r.RequestURI,
					Path:       r.URL.Path,
					RawPath:    r.URL.RawPath,
					RemoteAddr: r.RemoteAddr,
					Body:       string(body),
					Query:      r.URL.Query(),
					Header:     map[string][]string{},
				}
				for _, k := range tt.lookup {
					got.Header[k] = r.Header.Values(k)
				}
			})

			res, err := lambdahttp.Handler(h)(context.Background(), event)
			if err != nil {
				t.Fatalf("Handler: %v", err)
			}
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %q", res.StatusCode, res.Body)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// plain is the adapter's own answer for a failure it detects itself.
func plain(status int) events.APIGatewayProxyResponse {
	const ct = "text/plain; charset=utf-8"
	return events.APIGatewayProxyResponse{
		StatusCode:        status,
		Headers:           map[string]string{"Content-Type": ct},
		MultiValueHeaders: map[string][]string{"Content-Type": {ct}},
		Body:              http.StatusText(status) + "\n",
	}
}

func TestHandlerResponse(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	get := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/.netlify/functions/webhook"}
	tests := []struct {
		name    string
		event   events.APIGatewayProxyRequest
		handler http.HandlerFunc
		want    events.APIGatewayProxyResponse
	}{
		{
			name:    "no status written answers 200",
			event:   get,
			handler: func(w http.ResponseWriter, r *http.Request) {},
			want: events.APIGatewayProxyResponse{
				StatusCode:        200,
				Headers:           map[string]string{},
				MultiValueHeaders: map[string][]string{},
			},
		},
		{
			name:  "WhatsApp challenge echoed as sniffed text",
			event: readEvent(t, "whatsapp_verify_get.json"),
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, r.URL.Query().Get("hub.challenge"))
			},
			want: events.APIGatewayProxyResponse{
				StatusCode:        200,
				Headers:           map[string]string{"Content-Type": "text/plain; charset=utf-8"},
				MultiValueHeaders: map[string][]string{"Content-Type": {"text/plain; charset=utf-8"}},
				Body:              "123",
			},
		},
		{
			name:  "JSON with status",
			event: get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, `{"ok":true}`)
			},
			want: events.APIGatewayProxyResponse{
				StatusCode:        201,
				Headers:           map[string]string{"Content-Type": "application/json"},
				MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}},
				Body:              `{"ok":true}`,
			},
		},
		{
			name:  "problem+json is text",
			event: get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
				w.WriteHeader(http.StatusUnprocessableEntity)
				io.WriteString(w, `{"title":"out of stock"}`)
			},
			want: events.APIGatewayProxyResponse{
				StatusCode:        422,
				Headers:           map[string]string{"Content-Type": "application/problem+json; charset=utf-8"},
				MultiValueHeaders: map[string][]string{"Content-Type": {"application/problem+json; charset=utf-8"}},
				Body:              `{"title":"out of stock"}`,
			},
		},
		{
			name:  "binary answered base64",
			event: get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				w.Write(png)
			},
			want: events.APIGatewayProxyResponse{
				StatusCode:        200,
				Headers:           map[string]string{"Content-Type": "image/png"},
				MultiValueHeaders: map[string][]string{"Content-Type": {"image/png"}},
				Body:              "iVBORw0KGgoAAAANSUhEUg==",
				IsBase64Encoded:   true,
			},
		},
		{
			name:  "binary with no content type is sniffed",
			event: get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(png)
			},
			want: events.APIGatewayProxyResponse{
				StatusCode:        200,
				Headers:           map[string]string{"Content-Type": "image/png"},
				MultiValueHeaders: map[string][]string{"Content-Type": {"image/png"}},
				Body:              "iVBORw0KGgoAAAANSUhEUg==",
				IsBase64Encoded:   true,
			},
		},
		{
			name:  "text that is not UTF-8 answered base64",
			event: get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain; charset=latin1")
				io.WriteString(w, "caf\xe9")
			},
			want: events.APIGatewayProxyResponse{
				StatusCode:        200,
				Headers:           map[string]string{"Content-Type": "text/plain; charset=latin1"},
				MultiValueHeaders: map[string][]string{"Content-Type": {"text/plain; charset=latin1"}},
				Body:              "Y2Fm6Q==",
				IsBase64Encoded:   true,
			},
		},
		{
			name:  "multi-value response headers",
			event: get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Set-Cookie", "a=1")
				w.Header().Add("Set-Cookie", "b=2")
				w.WriteHeader(http.StatusSeeOther)
			},
			want: events.APIGatewayProxyResponse{
				StatusCode:        303,
				Headers:           map[string]string{"Set-Cookie": "a=1"},
				MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}},
			},
		},
		{
			name:  "first status wins, later headers ignored",
			event: get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusAccepted)
				w.WriteHeader(http.StatusInternalServerError)
				w.Header().Set("X-Late", "1")
			},
			want: events.APIGatewayProxyResponse{
				StatusCode:        202,
				Headers:           map[string]string{},
				MultiValueHeaders: map[string][]string{},
			},
		},
		{
			name:    "malformed base64 answered 400",
			event:   readEvent(t, "malformed_base64_post.json"),
			handler: func(w http.ResponseWriter, r *http.Request) { t.Error("handler called") },
			want:    plain(http.StatusBadRequest),
		},
		{
			name:    "bad path escape answered 400",
			event:   events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/%zz"},
			handler: func(w http.ResponseWriter, r *http.Request) { t.Error("handler called") },
			want:    plain(http.StatusBadRequest),
		},
		{
			name:    "invalid method answered 400",
			event:   events.APIGatewayProxyRequest{HTTPMethod: "GET /", Path: "/"},
			handler: func(w http.ResponseWriter, r *http.Request) { t.Error("handler called") },
			want:    plain(http.StatusBadRequest),
		},
		{
			name:    "panic answered 500",
			event:   get,
			handler: func(w http.ResponseWriter, r *http.Request) { panic("boom") },
			want:    plain(http.StatusInternalServerError),
		},
		{
			name:  "panic after a partial answer discards it",
			event: get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Order-Id", "o_1")
				io.WriteString(w, "half")
				panic("boom")
			},
			want: plain(http.StatusInternalServerError),
		},
	}
	captureLogs(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lambdahttp.Handler(tt.handler)(context.Background(), tt.event)
			if err != nil {
				t.Fatalf("Handler: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerPanicLogged(t *testing.T) {
	logs := captureLogs(t)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") })

	if _, err := lambdahttp.Handler(h)(ctx, readEvent(t, "scheduled_post.json")); err != nil {
		t.Fatalf("Handler: %v", err)
	}

	var got map[string]any
	if err := json.Unmarshal(logs.Bytes(), &got); err != nil {
		t.Fatalf("want one JSON log line, got %q: %v", logs, err)
	}
	if _, ok := got["stack"].(string); !ok {
		t.Errorf("log has no stack: %v", got)
	}
	delete(got, "stack")
	delete(got, "time")
	want := map[string]any{
		"level":          "ERROR",
		"msg":            "handler panic",
		"panic":          "boom",
		"method":         "POST",
		"path":           "/.netlify/functions/cleanup",
		"aws_request_id": "req-1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

func TestHandlerBadEventLogged(t *testing.T) {
	logs := captureLogs(t)
	event := events.APIGatewayProxyRequest{
		HTTPMethod:            "GET",
		Path:                  "/%zz",
		QueryStringParameters: map[string]string{"hub.verify_token": "s3cret"},
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("handler called") })

	if _, err := lambdahttp.Handler(h)(context.Background(), event); err != nil {
		t.Fatalf("Handler: %v", err)
	}

	var got map[string]any
	if err := json.Unmarshal(logs.Bytes(), &got); err != nil {
		t.Fatalf("want one JSON log line, got %q: %v", logs, err)
	}
	delete(got, "time")
	want := map[string]any{
		"level":          "WARN",
		"msg":            "bad function event",
		"err":            `parse path: invalid URL escape "%zz"`, // and no query: no secret
		"aws_request_id": "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

func TestHandlerContext(t *testing.T) {
	deadline := time.Now().Add(30 * time.Second).Truncate(time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-1"})

	type observed struct {
		Deadline    time.Time
		HasDeadline bool
		RequestID   string
	}
	var got observed
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Deadline, got.HasDeadline = r.Context().Deadline()
		if lc, ok := lambdacontext.FromContext(r.Context()); ok {
			got.RequestID = lc.AwsRequestID
		}
	})

	if _, err := lambdahttp.Handler(h)(ctx, readEvent(t, "scheduled_post.json")); err != nil {
		t.Fatalf("Handler: %v", err)
	}
	want := observed{Deadline: deadline, HasDeadline: true, RequestID: "req-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request context mismatch (-want +got):\n%s", diff)
	}
}
