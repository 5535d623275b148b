package stripe

import (
	"fmt"
	"net/http"

	stripego "github.com/stripe/stripe-go/v79"
)

// refundReasons are the reasons Stripe accepts on a refund.
var refundReasons = map[string]bool{"duplicate": true, "fraudulent": true, "requested_by_customer": true}

// createRefund is POST /v1/refunds against a payment_intent of a session paid
// through the control API: the shop refunds payments it cannot fulfil.
// amount defaults to what is left to refund, as at Stripe.
func (s *Server) createRefund(c *call) response {
	p := c.params
	if e := checkKnown(p, stripego.RefundParams{}); e != nil {
		return rejected(e)
	}
	piID := p.Get("payment_intent")
	if piID == "" {
		if p.Get("charge") != "" {
			return rejected(invalidRequest("charge", "stand-in: refunds by charge are not supported, send payment_intent"))
		}
		return rejected(missingParam("payment_intent"))
	}
	amount, set, e := intParam(p, "amount")
	switch {
	case e != nil:
		return rejected(e)
	case set && amount < 1:
		return rejected(invalidRequest("amount", "This value must be greater than or equal to 1."))
	}
	reason := p.Get("reason")
	if reason != "" && !refundReasons[reason] {
		return rejected(invalidRequest("reason", fmt.Sprintf("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer, got %q.", reason)))
	}
	md, e := metadataParam(p, "metadata")
	if e != nil {
		return rejected(e)
	}

	pi, ok := s.intents[piID]
	if !ok {
		return failed(resourceMissing(http.StatusBadRequest, "payment_intent", piID, "payment_intent"))
	}
	if pi.Status != "succeeded" {
		return failed(invalidRequest("payment_intent", fmt.Sprintf(
			"This PaymentIntent (%s) does not have a successful charge to refund.", pi.ID)))
	}
	left := pi.Amount - pi.Refunded
	if left == 0 {
		e := invalidRequest("", fmt.Sprintf("Charge %s has already been refunded.", pi.Charge))
		e.Code = "charge_already_refunded"
		return failed(e)
	}
	if !set {
		amount = left
	}
	if amount > left {
		e := invalidRequest("amount", fmt.Sprintf("Refund amount (%s) is greater than unrefunded amount on charge (%s)",
			money(amount, pi.Currency), money(left, pi.Currency)))
		e.Code = "amount_too_large"
		return failed(e)
	}

	pi.Refunded += amount
	refund := Refund{
		ID:            newID("re_", 24),
		Object:        "refund",
		Amount:        amount,
		Charge:        pi.Charge,
		Created:       c.now.Unix(),
		Currency:      pi.Currency,
		Metadata:      md,
		PaymentIntent: pi.ID,
		Reason:        optional(reason),
		Status:        "succeeded",
	}
	s.refunds = append(s.refunds, refund)
	return object(refund)
}

// money formats minor units for messages, without assuming two decimals
// matter to the reader: "1500 eur".
func money(minor int64, currency string) string {
	return fmt.Sprintf("%d %s", minor, currency)
}
