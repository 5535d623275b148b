// Package lambdahttp serves Netlify Go functions with a plain http.Handler.
//
// Netlify invokes Go functions with the AWS API Gateway v1 proxy event
// (events.APIGatewayProxyRequest) and expects an events.APIGatewayProxyResponse
// back. Handler converts between the two so that every endpoint stays an
// ordinary http.Handler, mounted unchanged by the dedicated backend, the dev
// server and the tests. It is modelled on aws-lambda-go's lambdaurl package.
package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Start runs the Lambda loop, serving every invocation with h.
func Start(h http.Handler) {
	lambda.Start(Handler(h))
}

// Handler converts h into a Lambda handler for Netlify function events.
//
// The returned function never returns an error: an event that cannot be turned
// into a request is answered 400, and a panicking handler is answered 500, so
// that Netlify relays a proper HTTP response instead of a Lambda failure.
func Handler(h http.Handler) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(ctx context.Context, event events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		r, err := newRequest(ctx, event)
		if err != nil {
			slog.WarnContext(ctx, "bad function event", "err", err, "aws_request_id", awsRequestID(ctx))
			return plainResponse(http.StatusBadRequest), nil
		}
		w := &responseWriter{}
		if !serve(h, w, r) {
			return plainResponse(http.StatusInternalServerError), nil
		}
		return w.response(), nil
	}
}

// serve runs h and reports whether it returned without panicking. A panic is
// logged here because nothing upstream would: the Lambda runtime only sees an
// answer of 500.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			slog.ErrorContext(r.Context(), "handler panic",
				"panic", fmt.Sprint(v),
				"method", r.Method,
				"path", r.URL.Path,
				"aws_request_id", awsRequestID(r.Context()),
				"stack", string(debug.Stack()))
			ok = false
		}
	}()
	h.ServeHTTP(w, r)
	return true
}

// newRequest builds the request an http.Server would have built for the event.
// The body is decoded up front so that bad base64 is a 400, not a read error
// half-way through the handler.
func newRequest(ctx context.Context, event events.APIGatewayProxyRequest) (*http.Request, error) {
	body := []byte(event.Body)
	if event.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(event.Body)
		if err != nil {
			return nil, fmt.Errorf("decode base64 body: %w", err)
		}
		body = b
	}

	target := event.Path
	if target == "" || target[0] != '/' {
		target = "/" + target
	}
	if q := merge(event.QueryStringParameters, event.MultiValueQueryStringParameters, asIs); len(q) > 0 {
		target += "?" + url.Values(q).Encode()
	}
	// ParseRequestURI, unlike url.Parse, reads "//x" as a path rather than a host,
	// and it keeps Netlify's percent-encoding in RawPath as net/http does.
	u, err := url.ParseRequestURI(target)
	if err != nil {
		// Keep only the reason: the target holds the query, and with it
		// secrets such as WhatsApp's hub.verify_token, which must not be logged.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("parse path: %w", err)
	}

	r, err := http.NewRequestWithContext(ctx, event.HTTPMethod, "/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	r.URL = u
	r.RequestURI = target
	r.Header = merge(event.Headers, event.MultiValueHeaders, http.CanonicalHeaderKey)
	r.Host = r.Header.Get("Host")
	r.Header.Del("Host") // as net/http does: the host lives in r.Host only
	r.RemoteAddr = remoteAddr(event, r.Header)
	return r, nil
}

// merge combines API Gateway's single- and multi-value maps, naming each key
// with canon. Where a key is in both, the multi-value list wins: the single
// value is only its last or joined copy, and adding it would duplicate it.
// Single keys that canon makes equal are merged without repeating a value.
func merge(single map[string]string, multi map[string][]string, canon func(string) string) map[string][]string {
	m := make(map[string][]string, len(single)+len(multi))
	for k, vs := range multi {
		k = canon(k)
		m[k] = append(m[k], vs...)
	}
	fromMulti := make(map[string]bool, len(m))
	for k := range m {
		fromMulti[k] = true
	}
	for k, v := range single {
		k = canon(k)
		if !fromMulti[k] && !slices.Contains(m[k], v) {
			m[k] = append(m[k], v)
		}
	}
	return m
}

func asIs(s string) string { return s }

// remoteAddr is the client's address: API Gateway's source IP, or else the
// header Netlify's edge sets, since Netlify sends no requestContext.identity.
// Like lambdaurl, it is a bare IP with no port.
func remoteAddr(event events.APIGatewayProxyRequest, h http.Header) string {
	if ip := event.RequestContext.Identity.SourceIP; ip != "" {
		return ip
	}
	if ip := h.Get("X-Nf-Client-Connection-Ip"); ip != "" {
		return ip
	}
	return h.Get("Client-Ip")
}

func awsRequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// plainResponse answers status with its standard text, for failures the
// adapter itself detects; it never carries internal detail.
func plainResponse(status int) events.APIGatewayProxyResponse {
	const ct = "text/plain; charset=utf-8"
	return events.APIGatewayProxyResponse{
		StatusCode:        status,
		Headers:           map[string]string{"Content-Type": ct},
		MultiValueHeaders: map[string][]string{"Content-Type": {ct}},
		Body:              http.StatusText(status) + "\n",
	}
}
