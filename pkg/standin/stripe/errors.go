package stripe

import (
	"fmt"
	"net/http"
)

// apiError is Stripe's error object, answered as {"error": …}. stripe-go
// turns it into a typed error by Type (invalid_request_error,
// idempotency_error, api_error, …) and keeps Code and Param.
type apiError struct {
	status  int
	Code    string `json:"code,omitempty"`
	DocURL  string `json:"doc_url,omitempty"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	Type    string `json:"type"`
}

func (e *apiError) body() map[string]*apiError { return map[string]*apiError{"error": e} }

func invalidRequest(param, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Param: param, Message: msg}
}

func missingParam(param string) *apiError {
	e := invalidRequest(param, fmt.Sprintf("Missing required param: %s.", param))
	e.Code = "parameter_missing"
	return e
}

func unknownParam(param string) *apiError {
	e := invalidRequest(param, fmt.Sprintf("Received unknown parameter: %s", param))
	e.Code = "parameter_unknown"
	return e
}

func invalidInteger(param, value string) *apiError {
	e := invalidRequest(param, fmt.Sprintf("Invalid integer: %s", value))
	e.Code = "parameter_invalid_integer"
	return e
}

// resourceMissing is Stripe's answer to an id it does not know, e.g.
// "No such checkout.session: 'cs_test_…'".
func resourceMissing(status int, object, id, param string) *apiError {
	return &apiError{
		status:  status,
		Type:    "invalid_request_error",
		Code:    "resource_missing",
		Param:   param,
		Message: fmt.Sprintf("No such %s: '%s'", object, id),
	}
}

// Messages Stripe answers when an Idempotency-Key is reused for another
// request (docs.stripe.com/api/idempotent_requests; texts as stripe-ruby and
// stripe-php users have reported them).
func idempotencyParamsMismatch(key string) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: "idempotency_error", Message: fmt.Sprintf(
		"Keys for idempotent requests can only be used with the same parameters they were first used with. "+
			"Try using a key other than '%s' if you meant to execute a different request.", key)}
}

func idempotencyEndpointMismatch(key, was, now string) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: "idempotency_error", Message: fmt.Sprintf(
		"Keys for idempotent requests can only be used for the same endpoint they were first used for ('%s' vs '%s'). "+
			"Try using a key other than '%s' if you meant to execute a different request.", now, was, key)}
}

// Failure is an injected failure: the next Count API calls answer Status
// with a Stripe error of Type, Code and Message. Type defaults to api_error
// for 5xx and invalid_request_error otherwise; a 429 defaults to the
// rate_limit code (lock_timeout is the one stripe-go retries).
type Failure struct {
	Count   int    `json:"count"`
	Status  int    `json:"status"`
	Type    string `json:"type,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

func (f Failure) apiError() *apiError {
	e := &apiError{status: f.Status, Type: f.Type, Code: f.Code, Message: f.Message}
	if e.Type == "" {
		e.Type = "invalid_request_error"
		if f.Status >= 500 {
			e.Type = "api_error"
		}
	}
	if e.Code == "" && f.Status == http.StatusTooManyRequests {
		e.Code = "rate_limit"
	}
	if e.Message == "" {
		switch {
		case f.Status == http.StatusTooManyRequests:
			e.Message = "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits."
		case f.Status >= 500:
			e.Message = "An unknown error occurred"
		default:
			e.Message = "stand-in: injected failure"
		}
	}
	return e
}

// Fail queues f: the next f.Count API calls fail that way. Injected failures
// happen before an endpoint runs, so, like Stripe's rate limits, they are
// never saved under an idempotency key: a retry with the same key runs.
func (s *Server) Fail(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Count > 0 {
		s.failures = append(s.failures, f)
	}
}

// nextFailureLocked consumes one pending failure; s.mu must be held.
func (s *Server) nextFailureLocked() (Failure, bool) {
	if len(s.failures) == 0 {
		return Failure{}, false
	}
	f := s.failures[0]
	s.failures[0].Count--
	if s.failures[0].Count <= 0 {
		s.failures = s.failures[1:]
	}
	return f, true
}
