package stripe

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v79"
)

// Stripe's window for a Checkout Session's expires_at, measured from creation
// (docs.stripe.com/api/checkout/sessions/create: "anywhere from 30 minutes to
// 24 hours after Checkout Session creation"; 24 hours when not given).
const (
	minSessionLife = 30 * time.Minute
	maxSessionLife = 24 * time.Hour
	maxLineItems   = 100
)

// createSession is POST /v1/checkout/sessions, for mode=payment with inline
// price_data: what the shop sends.
func (s *Server) createSession(c *call) response {
	p := c.params
	if e := checkKnown(p, stripego.CheckoutSessionParams{}); e != nil {
		return rejected(e)
	}
	switch mode := p.Get("mode"); {
	case mode == "":
		return rejected(missingParam("mode"))
	case mode != "payment":
		return rejected(invalidRequest("mode", fmt.Sprintf("stand-in: mode %q is not supported, only payment", mode)))
	}
	if ui := p.Get("ui_mode"); ui != "" && ui != "hosted" {
		return rejected(invalidRequest("ui_mode", fmt.Sprintf("stand-in: ui_mode %q is not supported, only hosted", ui)))
	}
	if p.Get("success_url") == "" {
		return rejected(missingParam("success_url"))
	}
	if ref := p.Get("client_reference_id"); len(ref) > 200 {
		return rejected(invalidRequest("client_reference_id", "client_reference_id can have up to 200 characters."))
	}
	items, currency, total, e := lineItemsParam(p)
	if e != nil {
		return rejected(e)
	}
	expiresAt, e := expiresAtParam(p, c.now)
	if e != nil {
		return rejected(e)
	}
	md, e := metadataParam(p, "metadata")
	if e != nil {
		return rejected(e)
	}
	piMD, e := metadataParam(p, "payment_intent_data[metadata]")
	if e != nil {
		return rejected(e)
	}

	id := newID("cs_test_a1", 56)
	sess := &Session{
		ID:                 id,
		Object:             "checkout.session",
		AmountSubtotal:     total,
		AmountTotal:        total,
		CancelURL:          optional(p.Get("cancel_url")),
		ClientReferenceID:  optional(p.Get("client_reference_id")),
		Created:            c.now.Unix(),
		Currency:           currency,
		ExpiresAt:          expiresAt,
		Metadata:           md,
		Mode:               "payment",
		PaymentMethodTypes: []string{"card"},
		PaymentStatus:      paymentUnpaid,
		Status:             statusOpen,
		SuccessURL:         optional(p.Get("success_url")),
		UIMode:             "hosted",
		lineItems:          items,
		payURL:             s.baseURL(c.r) + "/pay/" + id,
		piMetadata:         piMD,
	}
	s.sessions[id] = sess
	s.order = append(s.order, id)
	return object(s.view(sess))
}

// retrieveSession is GET /v1/checkout/sessions/{id}.
func (s *Server) retrieveSession(c *call) response {
	if e := checkKnown(c.params, struct {
		Expand []string `form:"expand"`
	}{}); e != nil {
		return rejected(e)
	}
	sess, ok := s.sessions[c.r.PathValue("id")]
	if !ok {
		return rejected(resourceMissing(http.StatusNotFound, "checkout.session", c.r.PathValue("id"), "session"))
	}
	return object(s.view(sess))
}

// expireSession is POST /v1/checkout/sessions/{id}/expire. Only an open
// session expires; the answer for any other is saved under the idempotency
// key like any executed call.
func (s *Server) expireSession(c *call) response {
	if e := checkKnown(c.params, stripego.CheckoutSessionExpireParams{}); e != nil {
		return rejected(e)
	}
	sess, ok := s.sessions[c.r.PathValue("id")]
	if !ok {
		return failed(resourceMissing(http.StatusNotFound, "checkout.session", c.r.PathValue("id"), "session"))
	}
	s.refresh(sess)
	if sess.Status != statusOpen {
		return failed(invalidRequest("", fmt.Sprintf("Only Checkout Sessions with a status in [\"open\"] can be expired. "+
			"This Checkout Session has a status of `%s`.", sess.Status)))
	}
	sess.Status = statusExpired
	sess.owesExpiredEvent = true
	return object(s.view(sess))
}

// refresh applies the passage of time: an open session whose expires_at has
// come is expired, as Stripe expires it on its own.
func (s *Server) refresh(sess *Session) {
	if sess.Status == statusOpen && !s.opts.Now().Before(time.Unix(sess.ExpiresAt, 0)) {
		sess.Status = statusExpired
		sess.owesExpiredEvent = true
	}
}

// view is the session as the API shows it now. s.mu must be held.
func (s *Server) view(sess *Session) Session {
	s.refresh(sess)
	v := *sess
	v.URL = nil
	if v.Status == statusOpen {
		v.URL = &sess.payURL
	}
	return v
}

func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return strings.TrimSuffix(s.opts.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// lineItemsParam reads line_items[n][…] with inline price_data and returns
// the items, their common currency and the total in minor units.
func lineItemsParam(p map[string][]string) (items []lineItem, currency string, total int64, e *apiError) {
	indexes := map[int]bool{}
	for k := range p {
		if rest, ok := strings.CutPrefix(k, "line_items["); ok {
			n, err := strconv.Atoi(rest[:max(strings.Index(rest, "]"), 0)])
			if err != nil {
				return nil, "", 0, unknownParam(k)
			}
			indexes[n] = true
		}
	}
	if len(indexes) == 0 {
		return nil, "", 0, missingParam("line_items")
	}
	if len(indexes) > maxLineItems {
		return nil, "", 0, invalidRequest("line_items", fmt.Sprintf("You may only specify up to %d line items.", maxLineItems))
	}
	order := make([]int, 0, len(indexes))
	for n := range indexes {
		order = append(order, n)
	}
	sort.Ints(order)
	for _, n := range order {
		item, cur, e := lineItemParam(p, fmt.Sprintf("line_items[%d]", n))
		if e != nil {
			return nil, "", 0, e
		}
		if currency != "" && cur != currency {
			return nil, "", 0, invalidRequest("line_items", "All line items must have the same currency.")
		}
		currency = cur
		items = append(items, item)
		total += item.UnitAmount * item.Quantity
	}
	return items, currency, total, nil
}

func lineItemParam(p map[string][]string, pre string) (lineItem, string, *apiError) {
	get := func(k string) string {
		if v := p[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if price := get(pre + "[price]"); price != "" {
		// The stand-in has no catalogue of Prices; the shop sends price_data.
		return lineItem{}, "", resourceMissing(http.StatusBadRequest, "price", price, pre+"[price]")
	}
	qty, set, e := intParam(p, pre+"[quantity]")
	switch {
	case e != nil:
		return lineItem{}, "", e
	case !set:
		return lineItem{}, "", missingParam(pre + "[quantity]")
	case qty < 1:
		return lineItem{}, "", invalidRequest(pre+"[quantity]", "This value must be greater than or equal to 1.")
	}
	pd := pre + "[price_data]"
	currency := strings.ToLower(get(pd + "[currency]"))
	switch {
	case currency == "":
		return lineItem{}, "", missingParam(pd + "[currency]")
	case len(currency) != 3:
		return lineItem{}, "", invalidRequest(pd+"[currency]", fmt.Sprintf("Invalid currency: %s.", currency))
	}
	amount, set, e := intParam(p, pd+"[unit_amount]")
	switch {
	case e != nil:
		return lineItem{}, "", e
	case !set && get(pd+"[unit_amount_decimal]") != "":
		return lineItem{}, "", invalidRequest(pd+"[unit_amount_decimal]", "stand-in: unit_amount_decimal is not supported, send unit_amount")
	case !set:
		return lineItem{}, "", missingParam(pd + "[unit_amount]")
	case amount < 0:
		return lineItem{}, "", invalidRequest(pd+"[unit_amount]", "This value must be greater than or equal to 0.")
	}
	name := get(pd + "[product_data][name]")
	if name == "" {
		if product := get(pd + "[product]"); product != "" {
			return lineItem{}, "", resourceMissing(http.StatusBadRequest, "product", product, pd+"[product]")
		}
		return lineItem{}, "", missingParam(pd + "[product_data][name]")
	}
	return lineItem{Name: name, UnitAmount: amount, Quantity: qty}, currency, nil
}

// expiresAtParam reads expires_at and enforces Stripe's window.
func expiresAtParam(p map[string][]string, now time.Time) (int64, *apiError) {
	v, set, e := intParam(p, "expires_at")
	if e != nil {
		return 0, e
	}
	if !set {
		return now.Add(maxSessionLife).Unix(), nil
	}
	life := time.Unix(v, 0).Sub(now.Truncate(time.Second))
	switch {
	case life < minSessionLife:
		return 0, invalidRequest("expires_at", "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.")
	case life > maxSessionLife:
		return 0, invalidRequest("expires_at", "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.")
	}
	return v, nil
}

// optional is Stripe's null for an absent string.
func optional(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}
