package orders

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wa-shop/shop/pkg/catalog"
	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// Outbox kinds: one message of each per order.
const (
	KindPaymentLink   = "payment_link"
	KindConfirmation  = "order_confirmation"
	KindExpiryNotice  = "expiry_notice"
	KindPaymentFailed = "payment_failed"
	KindRefundNotice  = "refund_notice"
	KindRefunded      = "refunded"
)

// paymentLink is the WhatsApp message that asks the customer to pay: the
// order, and a "Pay now" button that opens the Checkout page.
// linkItems is how many items a payment link lists before "and N more".
const linkItems = 8

func (s *Service) paymentLink(o *Order, url string) outbox.Message {
	var b strings.Builder
	fmt.Fprintf(&b, "Your order %s:\n", ShortID(o.ID.String()))
	for i, it := range o.Items {
		if i == linkItems && len(o.Items) > linkItems+1 {
			// Meta takes 1,024 characters in the message: the checkout page lists them all.
			fmt.Fprintf(&b, "• and %d more items\n", len(o.Items)-linkItems)
			break
		}
		fmt.Fprintf(&b, "• %d × %s — %s\n", it.Quantity, it.Title,
			catalog.Money{Minor: it.UnitPriceMinor * int64(it.Quantity), Currency: o.Currency})
	}
	fmt.Fprintf(&b, "Total: %s\n\nWe hold your items until %s UTC.",
		catalog.Money{Minor: o.TotalMinor, Currency: o.Currency}, o.HoldExpiresAt.UTC().Format("15:04"))
	id := o.ID
	return outbox.Message{OrderID: &id, Kind: KindPaymentLink, Recipient: o.WaID,
		Payload: whatsapp.CTAURL(b.String(), "Pay now", url),
		Fallback: s.template(s.Templates.PaymentLink, ShortID(o.ID.String()),
			catalog.Money{Minor: o.TotalMinor, Currency: o.Currency}.String(), url, o.HoldExpiresAt.UTC().Format("15:04"))}
}

// template is a fallback template with its body parameters, or nil when
// the shop has not configured one.
func (s *Service) template(name string, params ...string) json.RawMessage {
	if name == "" {
		return nil
	}
	return whatsapp.Template(name, s.Templates.Language, params...)
}

// ShortID is the part of an order id a customer can read out.
func ShortID(id string) string {
	if len(id) < 8 {
		return strings.ToUpper(id)
	}
	return strings.ToUpper(id[:8])
}

// confirmation is the order_confirmation template: it reaches the customer
// even outside WhatsApp's 24-hour window. Body parameters: name, order
// number, total, items.
func (s *Service) confirmation(o *Order) outbox.Message {
	name := o.CustomerName
	if name == "" {
		name = "there"
	}
	id := o.ID
	return outbox.Message{OrderID: &id, Kind: KindConfirmation, Recipient: o.WaID,
		Payload: whatsapp.Template(s.Templates.Confirmation, s.Templates.Language,
			name, ShortID(o.ID.String()), catalog.Money{Minor: o.TotalMinor, Currency: o.Currency}.String(), itemSummary(o))}
}

func (s *Service) expiryNotice(o *Order) *outbox.Message {
	m := notice(o, KindExpiryNotice, fmt.Sprintf(
		"Your reservation for order %s lapsed and the items went back on the shelf. Send \"menu\" to order again.",
		ShortID(o.ID.String())))
	m.Fallback = s.template(s.Templates.ExpiryNotice, ShortID(o.ID.String()))
	return m
}

func paymentFailedNotice(o *Order) *outbox.Message {
	return notice(o, KindPaymentFailed, fmt.Sprintf(
		"The payment for order %s did not go through, so the items were released. Send \"menu\" to order again.",
		ShortID(o.ID.String())))
}

func (s *Service) refundNotice(o *Order) outbox.Message {
	total := catalog.Money{Minor: o.TotalMinor, Currency: o.Currency}.String()
	m := notice(o, KindRefundNotice, fmt.Sprintf(
		"Sorry! Your payment for order %s arrived after the last items were sold. We have refunded %s in full; it reaches your account in a few days.",
		ShortID(o.ID.String()), total))
	m.Fallback = s.template(s.Templates.RefundNotice, ShortID(o.ID.String()), total)
	return *m
}

func refundedNotice(o *Order) outbox.Message {
	return *notice(o, KindRefunded, fmt.Sprintf(
		"Your order %s has been refunded: %s. It reaches your account in a few days.",
		ShortID(o.ID.String()), catalog.Money{Minor: o.TotalMinor, Currency: o.Currency}))
}

func notice(o *Order, kind, text string) *outbox.Message {
	id := o.ID
	return &outbox.Message{OrderID: &id, Kind: kind, Recipient: o.WaID, Payload: whatsapp.Text(text)}
}

func itemSummary(o *Order) string {
	parts := make([]string, len(o.Items))
	for i, it := range o.Items {
		parts[i] = fmt.Sprintf("%d × %s", it.Quantity, it.Title)
	}
	return strings.Join(parts, ", ")
}
