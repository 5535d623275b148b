package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wa-shop/shop/pkg/httpx"
	"github.com/wa-shop/shop/pkg/outbox"
)

// DefaultTimeout bounds one Graph API call, far below Netlify's 30 s
// (scheduled) and 60 s (synchronous) limits, so a hung call fails as a
// transient error the outbox retries instead of killing the function.
const DefaultTimeout = 10 * time.Second

// maxResponse bounds what is read of an answer; Meta's are a few hundred
// bytes.
const maxResponse = 64 << 10

// ClientConfig is what sending needs; config.WhatsAppAPI holds the values.
type ClientConfig struct {
	BaseURL       string // https://graph.facebook.com, or the stand-in's URL
	Version       string // v25.0
	PhoneNumberID string // the business number messages are sent from
	AccessToken   string
	// HTTPClient, when nil, is a client with DefaultTimeout.
	HTTPClient *http.Client
	// Log receives only what an operator must act on (a rejected token);
	// discarded when nil. The outbox logs every send's outcome.
	Log *slog.Logger
}

// Client sends messages through the Cloud API. It satisfies outbox.Sender.
type Client struct {
	endpoint string
	token    string
	http     *http.Client
	log      *slog.Logger
}

var _ outbox.Sender = (*Client)(nil)

// NewClient builds a Client.
func NewClient(cfg ClientConfig) *Client {
	c := &Client{
		endpoint: strings.TrimRight(cfg.BaseURL, "/") + "/" + cfg.Version + "/" + cfg.PhoneNumberID + "/messages",
		token:    cfg.AccessToken,
		http:     cfg.HTTPClient,
		log:      cfg.Log,
	}
	if c.http == nil {
		c.http = httpx.NewClient(DefaultTimeout)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Send sends payload (a body without envelope, see Text and Template) to the
// wa_id to and returns the wamid Meta assigned. outboxID travels as
// biz_opaque_callback_data (Meta allows up to 512 characters; a UUID is 36)
// and comes back in the message's status webhooks.
//
// Errors are classified for the outbox: *outbox.PermanentError for sends
// that can never succeed, *outbox.RateLimitError for throttling, anything
// else transient. Every Graph error is also an *APIError inside.
func (c *Client) Send(ctx context.Context, to string, payload json.RawMessage, outboxID uuid.UUID) (string, error) {
	body, err := envelope(to, payload, outboxID)
	if err != nil {
		return "", &outbox.PermanentError{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", &outbox.PermanentError{Err: fmt.Errorf("build send request: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		// Timeouts, resets, refused connections: transient. The request may
		// or may not have reached Meta; the outbox's retry accepts that.
		return "", fmt.Errorf("send to graph api: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode/100 == 2 {
		return c.accepted(ctx, raw, err, to, outboxID), nil
	}
	apiErr := parseError(resp, raw)
	if operatorError(apiErr) {
		// A bad token or a wrong phone number id stops every send until
		// someone fixes the configuration. Retrying after the fix is right,
		// so the error stays transient; it is logged loudly here, once per
		// send, because nothing else will say it.
		c.log.ErrorContext(ctx, "graph api refused our credentials: check WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID",
			slog.Int("code", apiErr.Code), slog.Int("http_status", apiErr.HTTPStatus),
			slog.String("fbtrace_id", apiErr.TraceID), slog.String("to", maskWAID(to)),
			slog.String("outbox_id", outboxID.String()))
	}
	return "", classify(apiErr)
}

// envelope wraps the payload in the fields every send carries. The
// recipient comes from the caller, never from the payload.
func envelope(to string, payload json.RawMessage, outboxID uuid.UUID) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil || fields == nil {
		return nil, errors.New("payload is not a JSON object")
	}
	if to == "" {
		return nil, errors.New("no recipient")
	}
	quoted := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	fields["messaging_product"] = quoted("whatsapp")
	fields["recipient_type"] = quoted("individual")
	if IsBSUID(to) {
		// A user known only by a username: Meta takes the BSUID as recipient.
		fields["recipient"] = quoted(to)
	} else {
		fields["to"] = quoted(to)
	}
	if outboxID != uuid.Nil {
		fields["biz_opaque_callback_data"] = quoted(outboxID.String())
	}
	return json.Marshal(fields)
}

// accepted reads the wamid from a 2xx answer. Meta has taken the message by
// now, so an unreadable answer must not turn into an error: the outbox
// would send it again. The send is recorded without an id instead.
func (c *Client) accepted(ctx context.Context, raw []byte, readErr error, to string, outboxID uuid.UUID) string {
	var ok struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if readErr == nil {
		readErr = json.Unmarshal(raw, &ok)
	}
	if readErr != nil || len(ok.Messages) == 0 || ok.Messages[0].ID == "" {
		c.log.ErrorContext(ctx, "graph api accepted a send without a readable message id",
			slog.String("to", maskWAID(to)), slog.String("outbox_id", outboxID.String()))
		return ""
	}
	return ok.Messages[0].ID
}

// maskWAID keeps the last four digits of a wa_id, enough to tell customers
// apart in logs without logging a phone number.
func maskWAID(waID string) string {
	if len(waID) <= 4 {
		return "****"
	}
	return strings.Repeat("*", len(waID)-4) + waID[len(waID)-4:]
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date. The
// Graph API rarely sends one; a proxy in front of it may.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// APIError is a Graph API error answer. Meta asks clients to decide on Code
// (and error_data.details), not on the HTTP status or the message text.
type APIError struct {
	HTTPStatus int
	Code       int // 0 when the answer was not a Graph error (a proxy's page)
	Subcode    int
	Type       string
	Message    string // "(#<code>) <title>"
	Details    string // error_data.details
	TraceID    string // fbtrace_id, for Meta's support
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("graph api: http %d, code %d: %s", e.HTTPStatus, e.Code, e.Message)
	if e.Details != "" {
		msg += ": " + e.Details
	}
	return msg
}

// parseError reads {"error": {...}}; anything else keeps only the status.
func parseError(resp *http.Response, raw []byte) *APIError {
	var body struct {
		Error struct {
			Message   string `json:"message"`
			Type      string `json:"type"`
			Code      int    `json:"code"`
			Subcode   int    `json:"error_subcode"`
			ErrorData struct {
				Details string `json:"details"`
			} `json:"error_data"`
			TraceID string `json:"fbtrace_id"`
		} `json:"error"`
	}
	e := &APIError{HTTPStatus: resp.StatusCode, RetryAfter: retryAfter(resp.Header)}
	if json.Unmarshal(raw, &body) != nil || body.Error.Type == "" && body.Error.Code == 0 {
		e.Message = http.StatusText(resp.StatusCode) // never the raw body
		return e
	}
	b := body.Error
	e.Code, e.Subcode, e.Type, e.Message, e.Details, e.TraceID = b.Code, b.Subcode, b.Type, b.Message, b.ErrorData.Details, b.TraceID
	return e
}

// Codes from Meta's WhatsApp error-code reference
// (developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes).
var (
	// rateLimitCodes mean "not so fast": application request limit (4),
	// WABA rate limit (80007), throughput (130429), pair rate limit
	// (131056: one message every ~6 s to one customer), and spam rate limit
	// (131048), which lifts as the number's quality recovers, so a late
	// retry beats dropping an order message.
	rateLimitCodes = map[int]bool{4: true, 80007: true, 130429: true, 131056: true, 131048: true}
	// temporaryCodes are Meta's own "try again": unknown (1), service
	// temporarily unavailable (2), something went wrong (131000).
	temporaryCodes = map[int]bool{1: true, 2: true, 131000: true}
	// operatorCodes are our configuration, not the message: token errors
	// (0 AuthException, 190 expired or invalid token), missing
	// capability or permission (3, 10, 200–299 checked below), and a
	// phone number that is deleted (33) or locked (131031).
	operatorCodes = map[int]bool{0: true, 3: true, 10: true, 33: true, 190: true, 131031: true}
)

// operatorError tells configuration trouble (fixable by an operator, after
// which the same send succeeds) from trouble with the message.
func operatorError(e *APIError) bool {
	switch {
	case e.HTTPStatus == http.StatusUnauthorized:
		return true
	case e.Type == "" && e.Code == 0: // not a Graph error: only the status speaks
		return e.HTTPStatus == http.StatusForbidden
	case operatorCodes[e.Code], e.Code >= 200 && e.Code <= 299:
		return true
	}
	// Graph's "object with this id does not exist": the phone number id.
	return e.Code == 100 && e.Subcode == 33
}

// codeReengagement is Graph's "Re-engagement message": more than 24 hours
// since the customer last wrote, so only a template is delivered.
const codeReengagement = 131047

// classify maps a Graph error to what the outbox does with it.
func classify(e *APIError) error {
	switch {
	case rateLimitCodes[e.Code], e.HTTPStatus == http.StatusTooManyRequests:
		return &outbox.RateLimitError{RetryAfter: e.RetryAfter, Err: e}
	case temporaryCodes[e.Code], operatorError(e):
		return e
	case e.HTTPStatus >= 500, e.HTTPStatus == http.StatusRequestTimeout:
		return e
	case e.Code == codeReengagement:
		// Outside the 24-hour window: a template may still get through.
		return &outbox.WindowClosedError{Err: e}
	case e.HTTPStatus >= 400:
		// Undeliverable (131026), an invalid parameter (100, 131008,
		// 131009), a missing template (132001): the same request will fail
		// the same way.
		return &outbox.PermanentError{Err: e}
	}
	return e
}
