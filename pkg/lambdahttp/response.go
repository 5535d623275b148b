package lambdahttp

import (
	"bytes"
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// responseWriter buffers a handler's response, since a synchronous Netlify
// function answers with one JSON document. It follows net/http's rules where a
// handler could tell the difference: the first status wins, headers changed
// after it is written are ignored, and a missing Content-Type is sniffed.
type responseWriter struct {
	header  http.Header // what the handler is editing
	written http.Header // snapshot taken at WriteHeader
	status  int
	body    bytes.Buffer
}

func (w *responseWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *responseWriter) WriteHeader(status int) {
	// Informational 1xx answers cannot be relayed through a buffered response.
	if w.status != 0 || status < 200 {
		return
	}
	w.status = status
	w.written = w.Header().Clone()
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// response is what the handler wrote, as Netlify expects it: every header in
// both maps (Netlify has been seen to drop multiValueHeaders), and the body as
// text when it is text, else base64.
func (w *responseWriter) response() events.APIGatewayProxyResponse {
	w.WriteHeader(http.StatusOK) // a handler that wrote nothing answered 200
	body := w.body.Bytes()
	h := w.written
	if _, ok := h["Content-Type"]; !ok && len(body) > 0 {
		h.Set("Content-Type", http.DetectContentType(body))
	}

	res := events.APIGatewayProxyResponse{
		StatusCode:        w.status,
		Headers:           make(map[string]string, len(h)),
		MultiValueHeaders: make(map[string][]string, len(h)),
	}
	for k, vs := range h {
		if len(vs) == 0 {
			continue // a nil Content-Type suppresses sniffing; it is not a header
		}
		res.Headers[k] = vs[0]
		res.MultiValueHeaders[k] = vs
	}
	if len(body) == 0 || isText(h.Get("Content-Type")) && utf8.Valid(body) {
		res.Body = string(body)
	} else {
		res.Body = base64.StdEncoding.EncodeToString(body)
		res.IsBase64Encoded = true
	}
	return res
}

// isText reports whether a body of this media type travels as plain text. The
// body must also be valid UTF-8, which the caller checks, because a JSON
// string cannot carry anything else.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mt {
	case "application/json", "application/xml", "application/x-www-form-urlencoded":
		return true
	}
	return strings.HasPrefix(mt, "text/") ||
		strings.HasSuffix(mt, "+json") ||
		strings.HasSuffix(mt, "+xml") ||
		strings.Contains(mt, "javascript")
}
