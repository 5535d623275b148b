package graph

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
)

// Error is the object Graph wraps as {"error": …}. Meta recommends clients
// decide on Code (and error_data.details), not on the HTTP status or the
// message, so the stand-in fills Code carefully and the message loosely.
type Error struct {
	Message      string     `json:"message"`
	Type         string     `json:"type"`
	Code         int        `json:"code"`
	ErrorData    *ErrorData `json:"error_data,omitempty"`
	ErrorSubcode int        `json:"error_subcode,omitempty"`
	FBTraceID    string     `json:"fbtrace_id"`
}

// ErrorData carries the detail Cloud API errors add to the Graph error.
type ErrorData struct {
	MessagingProduct string `json:"messaging_product"`
	Details          string `json:"details"`
}

// Failure is an injected failure: the next Count sends answer Status with a
// Graph error built from the other fields. For example the throughput limit
// is {"count":1,"status":429,"code":130429,"message":"(#130429) Rate limit hit"}
// and the pair rate limit {"count":1,"status":429,"code":131056}.
type Failure struct {
	Count        int    `json:"count"`
	Status       int    `json:"status"`
	Code         int    `json:"code"`
	ErrorSubcode int    `json:"error_subcode,omitempty"`
	Type         string `json:"type,omitempty"`    // OAuthException when empty
	Message      string `json:"message,omitempty"` // "(#<code>) <title>" when empty
	Details      string `json:"details,omitempty"` // error_data.details when set
}

// titles are Meta's titles for the codes tests inject most, used to build a
// message like Meta's when the failure gives none.
var titles = map[int]string{
	1:      "Please reduce the amount of data you're asking for, then retry your request",
	2:      "Service temporarily unavailable",
	4:      "Application request limit reached",
	80007:  "Rate limit issues",
	100:    "Invalid parameter",
	130429: "Rate limit hit",
	131000: "Something went wrong",
	131008: "Required parameter is missing",
	131009: "Parameter value is not valid",
	131026: "Message undeliverable",
	131047: "Re-engagement message",
	131048: "Spam rate limit hit",
	131056: "(Business Account, Consumer Account) pair rate limit hit",
	132001: "Template name does not exist in the translation",
	190:    "Access token has expired",
}

// graphError turns an injected failure into the Graph error it answers with.
func (f Failure) graphError() Error {
	e := Error{
		Message:      f.Message,
		Type:         f.Type,
		Code:         f.Code,
		ErrorSubcode: f.ErrorSubcode,
	}
	if e.Type == "" {
		e.Type = "OAuthException"
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("(#%d) %s", f.Code, titles[f.Code])
	}
	if f.Details != "" {
		e.ErrorData = &ErrorData{MessagingProduct: "whatsapp", Details: f.Details}
	}
	return e
}

// invalidParameter is code 100, which Graph answers for a missing, unknown
// or malformed parameter.
func invalidParameter(msg string) Error {
	return Error{
		Message: "(#100) " + msg,
		Type:    "OAuthException",
		Code:    100,
	}
}

// notValid is code 131009, which the Cloud API answers for a parameter whose
// value breaks a rule (too many rows, too many buttons, …); the rule is in
// error_data.details.
func notValid(details string) Error {
	return Error{
		Message:   "(#131009) Parameter value is not valid",
		Type:      "OAuthException",
		Code:      131009,
		ErrorData: &ErrorData{MessagingProduct: "whatsapp", Details: details},
	}
}

// writeError writes e as Graph does: {"error": e}, with a fresh fbtrace_id.
func writeError(w http.ResponseWriter, status int, e Error) {
	if e.FBTraceID == "" {
		e.FBTraceID = traceID()
	}
	writeJSON(w, status, map[string]Error{"error": e})
}

// traceID returns an id shaped like Meta's fbtrace_id (11–27 URL-safe
// base64 characters); clients only log it.
func traceID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
