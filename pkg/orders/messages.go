package orders

import (
	"fmt"
	"strings"

	"github.com/wa-shop/shop/pkg/catalog"
	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// KindPaymentLink is the outbox kind of the message carrying the Checkout
// link; one per order.
const KindPaymentLink = "payment_link"

// paymentLink is the WhatsApp message that asks the customer to pay.
func paymentLink(o *Order, url string) outbox.Message {
	var b strings.Builder
	fmt.Fprintf(&b, "Your order %s:\n", ShortID(o.ID.String()))
	for _, it := range o.Items {
		fmt.Fprintf(&b, "• %d × %s — %s\n", it.Quantity, it.Title,
			catalog.Money{Minor: it.UnitPriceMinor * int64(it.Quantity), Currency: o.Currency})
	}
	fmt.Fprintf(&b, "Total: %s\n\nPay here: %s\n\nWe hold your items until %s UTC.",
		catalog.Money{Minor: o.TotalMinor, Currency: o.Currency}, url, o.HoldExpiresAt.UTC().Format("15:04"))
	id := o.ID
	return outbox.Message{OrderID: &id, Kind: KindPaymentLink, Recipient: o.WaID, Payload: whatsapp.Text(b.String())}
}

// ShortID is the part of an order id a customer can read out.
func ShortID(id string) string {
	if len(id) < 8 {
		return strings.ToUpper(id)
	}
	return strings.ToUpper(id[:8])
}
