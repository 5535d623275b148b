package conversation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

const helpText = `Hi! Tap "View items" to browse, or type for example "buy TSHIRT-M 2".`

// respond answers one message and says what it did, for processed_messages.
func (c *Conversation) respond(ctx context.Context, m whatsapp.InboundMessage) (string, error) {
	if m.Kind() == whatsapp.KindIdentityChange {
		// Meta's notice, not the customer talking: nothing to answer, and
		// it applies however late it comes.
		return m.System.Type, c.Orders.ChangeIdentity(ctx, identityChange(m))
	}
	to := m.ReplyTo()
	if to == "" {
		// A system message with no sender: nobody to answer.
		c.Log.WarnContext(ctx, "message without a sender", "wa_message_id", m.ID)
		return "no_sender", nil
	}
	if age := c.Now().Sub(m.Timestamp.Time); m.Timestamp.IsZero() || age > c.MaxAge {
		// Late after an outage: the customer may have moved on, so no stock
		// is held on their behalf; they get the catalogue instead. Meta
		// always dates a message, so one without a readable date is treated
		// as late too: holding stock must not hang on a missing field.
		return "stale", c.catalogue(ctx, to, 0, "Sorry for the slow reply! Here is what we have now.")
	}
	switch m.Kind() {
	case whatsapp.KindText:
		switch in := readIntent(m.Text.Body); {
		case in.buy:
			return c.order(ctx, m, []orders.Line{{SKU: in.sku, Quantity: in.quantity}})
		case in.cancel:
			return c.cancel(ctx, m)
		}
		return "catalogue", c.catalogue(ctx, to, 0, "")
	case whatsapp.KindListReply:
		id := m.Interactive.ListReply.ID
		if sku, ok := strings.CutPrefix(id, "sku:"); ok {
			return c.order(ctx, m, []orders.Line{{SKU: sku, Quantity: 1}})
		}
		page, _ := strconv.Atoi(strings.TrimPrefix(id, "page:"))
		return "catalogue", c.catalogue(ctx, to, page, "")
	case whatsapp.KindButtonReply:
		if sku, ok := strings.CutPrefix(m.Interactive.ButtonReply.ID, "buy:"); ok {
			return c.order(ctx, m, []orders.Line{{SKU: sku, Quantity: 1}})
		}
		return "catalogue", c.catalogue(ctx, to, 0, "")
	case whatsapp.KindOrder:
		if c.CatalogID != "" && m.Order.CatalogID != c.CatalogID {
			// A cart from another business's catalogue: its ids are not ours.
			return "foreign_catalogue", c.reply(ctx, to, whatsapp.Text("That cart is from another catalogue. "+helpText))
		}
		return c.order(ctx, m, cartLines(m.Order))
	case whatsapp.KindProductInquiry:
		return "inquiry", c.describe(ctx, to, m.Context.ReferredProduct.ProductRetailerID)
	case whatsapp.KindQuickReply:
		return "catalogue", c.catalogue(ctx, to, 0, "")
	}
	return "help", c.reply(ctx, to, whatsapp.Text("I can only read text and taps for now. "+helpText))
}

// identityChange reads a system message: the old number is the sender's.
func identityChange(m whatsapp.InboundMessage) orders.IdentityChange {
	// Notices older than Meta's August 2026 change carry the old BSUID only
	// as the sender's.
	ch := orders.IdentityChange{OldUserID: cmp.Or(m.System.PreviousUserID, m.FromUserID), NewUserID: m.System.UserID}
	if m.System.Type == "user_changed_number" {
		ch.OldWaID, ch.NewWaID = m.From, m.System.WaID
	}
	return ch
}

// cartLines reads a catalogue cart. Its item_price is the client's claim and
// is ignored: orders are priced from Postgres.
func cartLines(o *whatsapp.Order) []orders.Line {
	var lines []orders.Line
	for _, it := range o.ProductItems {
		q, err := it.Quantity.Int64()
		if err != nil || q < 1 {
			q = 0 // refused by orders.Create with a clear message
		}
		lines = append(lines, orders.Line{SKU: it.ProductRetailerID, Quantity: int(q)})
	}
	return lines
}

// order creates the order; its payment link goes out through the outbox.
// What the customer can fix is answered in the chat; a dependency failure
// is returned so Meta retries and the same key resumes the order.
func (c *Conversation) order(ctx context.Context, m whatsapp.InboundMessage, lines []orders.Line) (string, error) {
	to := m.ReplyTo()
	for i := range lines {
		lines[i].SKU = c.canonicalSKU(ctx, lines[i].SKU)
	}
	_, err := c.Orders.Create(ctx, orders.Request{
		Customer: orders.Customer{WaID: to, Name: m.Sender.Profile.Name, UserID: cmp.Or(m.Sender.UserID, m.FromUserID)},
		Lines:    lines, Key: "wa:" + m.ID,
	})
	var short *orders.OutOfStockError
	var unknown *orders.UnknownSKUError
	switch {
	case err == nil:
		return "order", nil
	case errors.As(err, &short):
		return "out_of_stock", c.reply(ctx, to, whatsapp.Text(shortText(short)))
	case errors.As(err, &unknown):
		return "unknown_sku", c.reply(ctx, to, whatsapp.Text(fmt.Sprintf(
			"We have no item %s. Send \"menu\" to see what we sell.", strings.Join(unknown.SKUs, ", "))))
	case errors.Is(err, orders.ErrInvalid):
		return "invalid", c.reply(ctx, to, whatsapp.Text(strings.TrimPrefix(err.Error(), orders.ErrInvalid.Error()+": ")+"."))
	case errors.Is(err, orders.ErrPreviousOrderPaying):
		return "previous_paying", c.reply(ctx, to, whatsapp.Text(
			"Your previous order is being paid right now. Once it is confirmed, send your new order again."))
	case errors.Is(err, orders.ErrPaymentRefused):
		return "payment_refused", c.reply(ctx, to, whatsapp.Text(
			"Sorry, we could not create a payment link for that order. Please try again later."))
	}
	return "", err
}

// cancel gives up the customer's unpaid order. A retry after a failure
// halfway finds nothing left to cancel and says so, which is still true.
func (c *Conversation) cancel(ctx context.Context, m whatsapp.InboundMessage) (string, error) {
	to := m.ReplyTo()
	cancelled, err := c.Orders.CancelUnpaid(ctx, orders.Customer{WaID: to, UserID: cmp.Or(m.Sender.UserID, m.FromUserID)})
	switch {
	case errors.Is(err, orders.ErrPreviousOrderPaying):
		return "cancel_paying", c.reply(ctx, to, whatsapp.Text(
			"Your order is being paid right now, so it can no longer be cancelled here."))
	case err != nil:
		return "", err
	case len(cancelled) == 0:
		return "cancel_none", c.reply(ctx, to, whatsapp.Text(`You have no unpaid order to cancel. Send "menu" to shop.`))
	}
	ids := make([]string, len(cancelled))
	for i, o := range cancelled {
		ids[i] = orders.ShortID(o.ID.String())
	}
	return "cancelled", c.reply(ctx, to, whatsapp.Text(fmt.Sprintf(
		`Order %s is cancelled and its payment link no longer works. Send "menu" to shop again.`, strings.Join(ids, ", "))))
}

func shortText(e *orders.OutOfStockError) string {
	parts := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		if l.Available == 0 {
			parts[i] = l.SKU + " is sold out"
		} else {
			parts[i] = fmt.Sprintf("only %d of %s left", l.Available, l.SKU)
		}
	}
	return "Sorry: " + strings.Join(parts, ", ") + ". Send \"menu\" to see what is in stock."
}

// canonicalSKU matches a typed SKU to the catalogue's spelling (customers
// type "buy tshirt-m"); unknown ones stay as typed, to be named in the reply.
func (c *Conversation) canonicalSKU(ctx context.Context, typed string) string {
	var sku string
	err := c.DB.QueryRow(ctx, `SELECT sku FROM variants WHERE upper(sku) = upper($1) LIMIT 1`, typed).Scan(&sku)
	if errors.Is(err, pgx.ErrNoRows) || err != nil {
		return typed
	}
	return sku
}
