package graph

// Status callbacks. After Meta accepts a send it posts the message's fate
// (sent, delivered, read) to the app's webhook, signed with the app secret;
// the shop learns from them that an outbox message (biz_opaque_callback_data)
// reached the customer. Callbacks wrap a Server instead of living in Options
// so that a stand-in without a webhook stays exactly the bare send API:
//
//	POST /_control/messages/{id}/status   {"status":"delivered"}: post one now
//	GET  /_control/statuses               callbacks posted and how the webhook answered
//
// The id is the wamid, path-escaped (a wamid is base64 and may hold "/").
// Shape: developers.facebook.com/documentation/business-messaging/whatsapp/
// webhooks/reference/messages/status, as in pkg/whatsapp/testdata/inbound/
// status_*.json (v24.0+: no conversation; pricing with sent and delivered).

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/wa-shop/shop/pkg/whatsapp"
)

// CallbackOptions configure status callbacks.
type CallbackOptions struct {
	WebhookURL   string // where callbacks go, as the app's webhook URL on Meta
	AppSecret    string // keys X-Hub-Signature-256, as Meta keys it with the app secret
	AutoStatuses bool   // post sent, then delivered, after every accepted send
	// DisplayPhoneNumber and BusinessAccountID fill metadata and entry.id;
	// made-up values when empty, as the shop only reads phone_number_id,
	// which is the Server's Options.PhoneNumberID.
	DisplayPhoneNumber, BusinessAccountID string
	Client                                *http.Client // 5 s timeout when nil
}

// maxInFlight bounds automatic callbacks posting at once, so a storm of sends
// does not become a storm of goroutines against a slow webhook. Beyond it a
// callback is dropped and reported in Deliveries, never queued.
const maxInFlight = 32

var (
	ErrUnknownMessage = errors.New("graph stand-in: no recorded send has this id")
	ErrStatus         = errors.New("graph stand-in: status must be sent, delivered or read")
	ErrNoWebhook      = errors.New("graph stand-in: no WebhookURL configured")
)

// Delivery is one callback and how the webhook answered it. A webhook that
// is down is reported here, not retried (Meta would retry for 7 days).
type Delivery struct {
	Body          json.RawMessage `json:"body"`
	WebhookStatus int             `json:"webhook_status,omitempty"`
	WebhookError  string          `json:"webhook_error,omitempty"`
}

// Callbacks serve a Server and post status callbacks for its sends.
type Callbacks struct {
	s      *Server
	opts   CallbackOptions
	mux    *http.ServeMux
	slots  chan struct{}
	ctx    context.Context // ends automatic callbacks on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	closed     bool // guards wg.Add against Close's Wait
	deliveries []Delivery
}

// WithCallbacks wraps s. Call Close to stop automatic callbacks.
func WithCallbacks(s *Server, opts CallbackOptions) *Callbacks {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 5 * time.Second}
	}
	opts.DisplayPhoneNumber = cmp.Or(opts.DisplayPhoneNumber, "15550000000")
	opts.BusinessAccountID = cmp.Or(opts.BusinessAccountID, "100000000000000")
	ctx, cancel := context.WithCancel(context.Background())
	c := &Callbacks{s: s, opts: opts, mux: http.NewServeMux(), slots: make(chan struct{}, maxInFlight),
		ctx: ctx, cancel: cancel}
	c.mux.HandleFunc("POST /{version}/{phone_number_id}/messages", c.handleSend)
	c.mux.HandleFunc("POST /_control/messages/{id}/status", c.handleControlStatus)
	c.mux.HandleFunc("GET /_control/statuses", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.Deliveries())
	})
	c.mux.Handle("/", s)
	return c
}

// ServeHTTP implements http.Handler.
func (c *Callbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// Close abandons automatic callbacks in flight and waits for them to end.
func (c *Callbacks) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// Deliveries returns the callbacks posted (or dropped), oldest first.
func (c *Callbacks) Deliveries() []Delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Delivery{}, c.deliveries...)
}

// handleSend lets the Server answer, then starts the automatic callbacks
// for an accepted send in the background: the answer is never held up.
func (c *Callbacks) handleSend(w http.ResponseWriter, r *http.Request) {
	rec := &answer{ResponseWriter: w}
	c.s.ServeHTTP(rec, r)
	var resp sendResponse
	if rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &resp) != nil || len(resp.Messages) == 0 {
		return
	}
	id := resp.Messages[0].ID
	if !c.startAuto(id) {
		return
	}
	go func() {
		defer func() { <-c.slots; c.wg.Done() }()
		for _, status := range []string{"sent", "delivered"} {
			if _, err := c.Post(c.ctx, id, status); err != nil {
				return
			}
		}
	}()
}

// startAuto takes a slot for id's automatic callbacks when they are on and
// one is free.
func (c *Callbacks) startAuto(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.opts.AutoStatuses || c.opts.WebhookURL == "" || c.closed {
		return false
	}
	select {
	case c.slots <- struct{}{}:
		c.wg.Add(1)
		return true
	default:
		c.deliveries = append(c.deliveries, Delivery{
			WebhookError: fmt.Sprintf("dropped: %d callbacks already in flight (message %s)", maxInFlight, id)})
		return false
	}
}

// handleControlStatus is POST /_control/messages/{id}/status.
func (c *Callbacks) handleControlStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status string `json:"status"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		controlError(w, http.StatusBadRequest, "decode status: "+err.Error())
		return
	}
	d, err := c.Post(r.Context(), r.PathValue("id"), req.Status)
	switch {
	case errors.Is(err, ErrUnknownMessage):
		controlError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrStatus):
		controlError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrNoWebhook):
		controlError(w, http.StatusConflict, err.Error())
	case err != nil:
		controlError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, d)
	}
}

// Post sends one signed status callback for the recorded send id now. The
// webhook's answer, or its failure, is in the Delivery, not the error: the
// error means the callback could not be built or ctx ended.
func (c *Callbacks) Post(ctx context.Context, id, status string) (Delivery, error) {
	switch {
	case c.opts.WebhookURL == "":
		return Delivery{}, ErrNoWebhook
	case status != "sent" && status != "delivered" && status != "read":
		return Delivery{}, fmt.Errorf("%w, not %q", ErrStatus, status)
	}
	body, err := c.notification(id, status)
	if err != nil {
		return Delivery{}, err
	}
	d := Delivery{Body: body}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return Delivery{}, fmt.Errorf("callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.SignatureHeaderValue(body, c.opts.AppSecret))
	resp, err := c.opts.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Delivery{}, ctx.Err()
		}
		d.WebhookError = err.Error()
	} else {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		d.WebhookStatus = resp.StatusCode
	}
	c.mu.Lock()
	c.deliveries = append(c.deliveries, d)
	c.mu.Unlock()
	return d, nil
}

// The callback body, in Meta's field order.
type (
	statusNotification struct {
		Object string        `json:"object"`
		Entry  []statusEntry `json:"entry"`
	}
	statusEntry struct {
		ID      string         `json:"id"`
		Changes []statusChange `json:"changes"`
	}
	statusChange struct {
		Value statusValue `json:"value"`
		Field string      `json:"field"`
	}
	statusValue struct {
		MessagingProduct string `json:"messaging_product"`
		Metadata         struct {
			DisplayPhoneNumber string `json:"display_phone_number"`
			PhoneNumberID      string `json:"phone_number_id"`
		} `json:"metadata"`
		Statuses []messageStatus `json:"statuses"`
	}
	messageStatus struct {
		ID                    string   `json:"id"`
		Status                string   `json:"status"`
		Timestamp             string   `json:"timestamp"` // unix seconds, a string as Meta sends it
		RecipientID           string   `json:"recipient_id"`
		BizOpaqueCallbackData string   `json:"biz_opaque_callback_data,omitempty"`
		Pricing               *pricing `json:"pricing,omitempty"`
	}
	pricing struct {
		Billable     bool   `json:"billable"`
		PricingModel string `json:"pricing_model"`
		Type         string `json:"type"`
		Category     string `json:"category"`
	}
)

// notification builds the callback for a recorded send.
func (c *Callbacks) notification(id, status string) ([]byte, error) {
	sends := c.s.Messages("")
	i := slices.IndexFunc(sends, func(m Message) bool { return m.ID == id })
	if i < 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnknownMessage, id)
	}
	m := sends[i]
	var sent struct {
		BizOpaqueCallbackData string `json:"biz_opaque_callback_data"`
	}
	_ = json.Unmarshal(m.Body, &sent) // it was decoded once already when accepted
	st := messageStatus{ID: m.ID, Status: status, Timestamp: strconv.FormatInt(c.s.opts.Now().Unix(), 10),
		RecipientID: waID(m.To), BizOpaqueCallbackData: sent.BizOpaqueCallbackData}
	if status != "read" {
		st.Pricing = priced(m.Type)
	}
	v := statusValue{MessagingProduct: "whatsapp", Statuses: []messageStatus{st}}
	v.Metadata.DisplayPhoneNumber = c.opts.DisplayPhoneNumber
	v.Metadata.PhoneNumberID = c.s.opts.PhoneNumberID
	return json.Marshal(statusNotification{Object: "whatsapp_business_account", Entry: []statusEntry{{
		ID: c.opts.BusinessAccountID, Changes: []statusChange{{Value: v, Field: "messages"}},
	}}})
}

// priced is per-message pricing (PMP) as Meta reports it inside the
// customer-service window the shop answers in: free-form replies are free
// service messages; templates (order confirmation, shipping update) are
// billed utility messages.
func priced(messageType string) *pricing {
	if messageType == "template" {
		return &pricing{Billable: true, PricingModel: "PMP", Type: "regular", Category: "utility"}
	}
	return &pricing{Billable: false, PricingModel: "PMP", Type: "free_customer_service", Category: "service"}
}

// answer passes a response through and keeps a copy, so handleSend learns
// the wamid from the Server's own answer instead of re-parsing the request.
type answer struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (a *answer) WriteHeader(status int) {
	a.status = status
	a.ResponseWriter.WriteHeader(status)
}

func (a *answer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	a.body.Write(b)
	return a.ResponseWriter.Write(b)
}
