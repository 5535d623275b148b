package lambdahttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/wa-shop/shop/pkg/lambdahttp"
)

// FuzzHandler feeds arbitrary events to an echo handler. The adapter must never
// panic or return a Lambda error; it answers 400 only for bad base64 or a path
// that is not a request URI; the echoed body survives the trip both ways; and a
// body not flagged base64 is valid UTF-8, since JSON would mangle anything else.
func FuzzHandler(f *testing.F) {
	f.Add("", false, "/", "")
	f.Add("aGVsbG8=", true, "/.netlify/functions/webhook", "text/plain")
	f.Add("not base64!!", true, "/", "application/json")
	f.Add(`{"next_run":"2026-11-27T17:00:00.000Z"}`, false, "/.netlify/functions/cleanup", "application/json")
	f.Add("\xff\xfe", false, "/%zz", "text/html; charset=utf-8")
	f.Add("iVBORw0KGgo=", true, "//x", "")
	f.Add("caf\xe9", false, "/a b", "application/vnd.api+json")

	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = r.Header.Values("Content-Type") // may be none: sniffed
		io.Copy(w, r.Body)
	})
	h := lambdahttp.Handler(echo)

	f.Fuzz(func(t *testing.T, body string, isBase64 bool, path, contentType string) {
		event := events.APIGatewayProxyRequest{
			HTTPMethod:      "POST",
			Path:            path,
			Headers:         map[string]string{"content-type": contentType},
			Body:            body,
			IsBase64Encoded: isBase64,
		}
		res, err := h(context.Background(), event)
		if err != nil {
			t.Fatalf("Lambda error: %v", err)
		}
		if !res.IsBase64Encoded && !utf8.ValidString(res.Body) {
			t.Fatalf("text body is not UTF-8: %q", res.Body)
		}

		sent := []byte(body)
		var decodeErr error
		if isBase64 {
			sent, decodeErr = base64.StdEncoding.DecodeString(body)
		}
		target := path
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		_, pathErr := url.ParseRequestURI(target)

		switch {
		case decodeErr != nil || pathErr != nil:
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400 (decode: %v, path: %v)", res.StatusCode, decodeErr, pathErr)
			}
		case res.StatusCode != http.StatusOK:
			t.Fatalf("status = %d, want 200; body %q", res.StatusCode, res.Body)
		default:
			got := []byte(res.Body)
			if res.IsBase64Encoded {
				if got, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
					t.Fatalf("response body is not base64: %v", err)
				}
			}
			if !bytes.Equal(got, sent) {
				t.Fatalf("echo = %q, want %q", got, sent)
			}
		}
	})
}
