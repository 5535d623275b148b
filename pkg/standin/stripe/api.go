package stripe

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// idempotencyWindow is how long Stripe keeps a key's saved answer; after it
// the key starts a new request (docs.stripe.com/api/idempotent_requests).
const idempotencyWindow = 24 * time.Hour

// call is what an endpoint sees: the request, its decoded parameters and the
// time Stripe's clock says it is.
type call struct {
	r      *http.Request
	params url.Values
	now    time.Time
}

// response is an endpoint's answer. keep says whether the idempotency layer
// saves it: Stripe saves an answer once the endpoint began executing,
// success or failure, but not when parameters failed validation.
type response struct {
	status int
	body   []byte
	keep   bool
}

// endpoint handles one API route. It runs with s.mu held.
type endpoint func(c *call) response

type idemEntry struct {
	method, path, params string
	resp                 response
	requestID            string
	at                   time.Time
}

func object(v any) response {
	b, _ := json.MarshalIndent(v, "", "  ")
	return response{status: http.StatusOK, body: b, keep: true}
}

// rejected answers a validation error: not saved under the idempotency key.
func rejected(e *apiError) response {
	r := failed(e)
	r.keep = false
	return r
}

// failed answers an error met while executing: saved and replayed.
func failed(e *apiError) response {
	b, _ := json.MarshalIndent(e.body(), "", "  ")
	return response{status: e.status, body: b, keep: true}
}

// api wraps an endpoint with what every Stripe API call goes through, in
// Stripe's order: authentication, rate limiting (injected failures),
// idempotency, then the endpoint. Every call is recorded.
func (s *Server) api(h endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params, parseErr := readParams(r)
		key := ""
		if r.Method == http.MethodPost {
			key = strings.TrimSpace(r.Header.Get("Idempotency-Key"))
		}
		requestID := newID("req_", 14)

		s.mu.Lock()
		now := s.opts.Now()
		resp, original := s.serveLocked(h, &call{r: r, params: params, now: now}, parseErr, key, requestID)
		s.requests = append(s.requests, Request{
			Method: r.Method, Path: r.URL.Path, Params: params, IdempotencyKey: key,
			Status: resp.status, Replayed: original != "", Time: now,
		})
		s.mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", requestID)
		w.Header().Set("Stripe-Version", s.opts.APIVersion)
		if key != "" {
			w.Header().Set("Idempotency-Key", key)
		}
		if original != "" {
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Original-Request", original)
		}
		w.WriteHeader(resp.status)
		_, _ = w.Write(resp.body)
	})
}

// serveLocked answers c; replayedFrom is the original request id when the
// answer is an idempotent replay.
func (s *Server) serveLocked(h endpoint, c *call, parseErr error, key, requestID string) (resp response, replayedFrom string) {
	if e := s.authenticate(c.r); e != nil {
		return rejected(e), ""
	}
	if f, ok := s.nextFailureLocked(); ok {
		return rejected(f.apiError()), ""
	}
	if parseErr != nil {
		return rejected(invalidRequest("", "Invalid request body: "+parseErr.Error())), ""
	}
	canon := c.params.Encode() // sorted by key: order-insensitive comparison
	if key != "" {
		if e, ok := s.idem[key]; ok && c.now.Sub(e.at) < idempotencyWindow {
			switch {
			case e.method+" "+e.path != c.r.Method+" "+c.r.URL.Path:
				return rejected(idempotencyEndpointMismatch(key, e.path, c.r.URL.Path)), ""
			case e.params != canon:
				return rejected(idempotencyParamsMismatch(key)), ""
			}
			return e.resp, e.requestID
		}
	}
	resp = h(c)
	if key != "" && resp.keep {
		s.idem[key] = &idemEntry{
			method: c.r.Method, path: c.r.URL.Path, params: canon,
			resp: resp, requestID: requestID, at: c.now,
		}
	}
	return resp, ""
}

// authenticate accepts the secret key as Bearer (stripe-go) or as the Basic
// user name (curl -u sk_test_…:), as Stripe does.
func (s *Server) authenticate(r *http.Request) *apiError {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		key, _, _ = r.BasicAuth()
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return &apiError{status: http.StatusUnauthorized, Type: "invalid_request_error", Message: "You did not provide an API key. " +
			"You need to provide your API key in the Authorization header, using Bearer auth " +
			"(e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, " +
			"or we can help at https://support.stripe.com/."}
	}
	valid := strings.HasPrefix(key, "sk_test_")
	if s.opts.SecretKey != "" {
		valid = subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.SecretKey)) == 1
	}
	if !valid {
		return &apiError{status: http.StatusUnauthorized, Type: "invalid_request_error", Code: "api_key_invalid",
			Message: "Invalid API Key provided: " + redact(key)}
	}
	return nil
}

// redact shows a key as Stripe's error does: its prefix and last four
// characters only.
func redact(key string) string {
	if len(key) <= 12 {
		return strings.Repeat("*", len(key))
	}
	prefix := key[:8]
	return prefix + strings.Repeat("*", len(key)-12) + key[len(key)-4:]
}

// readParams decodes a call's parameters: the form body of a POST, the
// query of a GET.
func readParams(r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		return r.URL.Query(), nil
	}
	if err := r.ParseForm(); err != nil {
		return url.Values{}, err
	}
	return r.PostForm, nil
}

// unrecognized answers any other /v1 path as Stripe does.
func unrecognized(c *call) response {
	e := invalidRequest("", fmt.Sprintf("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs "+
		"or we can help at https://support.stripe.com/.", c.r.Method, c.r.URL.Path))
	e.status = http.StatusNotFound
	return rejected(e)
}
