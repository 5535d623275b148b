// Package conversation is the shop's side of the WhatsApp chat: it turns
// each inbound message into a reply, a catalogue page or an order, exactly
// once however often Meta delivers it.
package conversation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wa-shop/shop/pkg/claim"
	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// ErrInFlight means another copy of a message is being handled right now;
// the delivery is answered 5xx so Meta brings it again, and the copy that
// finishes first is the one that counts.
var ErrInFlight = errors.New("conversation: message is being handled by another delivery")

// Conversation answers customers.
type Conversation struct {
	DB            *pgxpool.Pool
	Orders        *orders.Service
	Inventory     *inventory.Inventory
	Outbox        *outbox.Outbox
	Claims        *claim.Claims
	Sender        outbox.Sender // replies that follow no state change go straight out
	PhoneNumberID string
	CatalogID     string        // WHATSAPP_CATALOG_ID: offer the Meta catalogue instead of a list
	MaxAge        time.Duration // older messages get the catalogue, never a hold
	Now           func() time.Time
	Log           *slog.Logger

	shelf shelf
}

// Receive handles one webhook delivery: statuses first (they move outbox
// rows forward), then each message on its own, in order per sender. A
// sender whose message failed has its later messages left for Meta's
// retry, so their order holds. The first failure is returned: the delivery is answered 5xx
// and only the work not yet done is done again.
func (c *Conversation) Receive(ctx context.Context, b *whatsapp.Batch) error {
	for _, e := range b.Errors() {
		c.Log.WarnContext(ctx, "webhook error", slog.Int("code", e.Code), slog.String("title", e.Title))
	}
	var first error
	for _, st := range b.Statuses() {
		reason := ""
		if len(st.Errors) > 0 {
			reason = fmt.Sprintf("%d %s", st.Errors[0].Code, st.Errors[0].Title)
		}
		err := c.Outbox.UpdateStatus(ctx, st.ID, st.BizOpaqueCallbackData, st.Status, reason)
		if err == nil && st.Status == outbox.StatusFailed && st.WindowClosed() {
			err = c.Outbox.SendFallback(ctx, st.ID)
		}
		if err != nil && !errors.Is(err, outbox.ErrUnknownMessage) && !errors.Is(err, outbox.ErrUnknownStatus) {
			first = cmpErr(first, err)
		}
	}
	mine, others := b.Inbound(c.PhoneNumberID)
	if len(others) > 0 {
		c.Log.InfoContext(ctx, "messages for another number ignored", slog.Int("count", len(others)))
	}
	return cmpErr(first, c.bySender(ctx, mine))
}

// parallelSenders bounds the customers of one delivery handled at once: a
// function instance's Postgres pool has four connections.
const parallelSenders = 4

// bySender handles each sender's messages in order, and different senders
// side by side: a batch of several customers costs about as long as its
// slowest customer. It returns the first failure, in batch order.
func (c *Conversation) bySender(ctx context.Context, messages []whatsapp.InboundMessage) error {
	var order []string
	queues := map[string][]whatsapp.InboundMessage{}
	for _, m := range messages {
		sender := m.ReplyTo()
		if _, seen := queues[sender]; !seen {
			order = append(order, sender)
		}
		queues[sender] = append(queues[sender], m)
	}
	errs := make([]error, len(order))
	slots := make(chan struct{}, parallelSenders)
	var wg sync.WaitGroup
	for i, sender := range order {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			defer func() {
				// The adapter recovers only the request's own goroutine: a
				// bug here must fail this delivery, not the whole instance.
				if p := recover(); p != nil {
					c.Log.ErrorContext(ctx, "panic handling a message", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
					errs[i] = fmt.Errorf("panic handling a message: %v", p)
				}
			}()
			for _, m := range queues[sender] {
				if err := c.handle(ctx, m); err != nil {
					// Later messages wait for Meta's retry, so their order holds.
					c.Log.WarnContext(ctx, "message not handled yet", slog.String("wa_message_id", m.ID), slog.String("error", err.Error()))
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	var first error
	for _, err := range errs {
		first = cmpErr(first, err)
	}
	return first
}

// handle answers a message once and records it as done (claim.Once).
func (c *Conversation) handle(ctx context.Context, m whatsapp.InboundMessage) error {
	if !usableID(m.ID) {
		// It could never be recorded as done: acknowledged, not retried for a week.
		c.Log.WarnContext(ctx, "message with an unusable id ignored", slog.Int("id_bytes", len(m.ID)))
		return nil
	}
	done := func(ctx context.Context) (bool, error) { return c.done(ctx, m.ID) }
	err := c.Claims.Once(ctx, "claim:wa:"+m.ID, done, func(ctx context.Context) error {
		// A copy may have finished after this one's claim was lost (Redis
		// restarted, lease expired).
		if finished, err := done(ctx); err != nil || finished {
			return err
		}
		outcome, err := c.respond(ctx, m)
		if err != nil {
			return err
		}
		_, err = c.DB.Exec(ctx, `INSERT INTO processed_messages (wa_message_id, outcome) VALUES ($1, $2)
			ON CONFLICT (wa_message_id) DO NOTHING`, m.ID, outcome)
		return err
	})
	if errors.Is(err, claim.ErrHeld) {
		return ErrInFlight
	}
	return err
}

// done says whether a message was handled: its row is written with the effect.
func (c *Conversation) done(ctx context.Context, id string) (done bool, err error) {
	err = c.DB.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM processed_messages WHERE wa_message_id = $1)`, id).Scan(&done)
	return done, err
}

// reply sends a message that follows no state change. A transient failure
// is returned so Meta's retry brings the reply; a permanent one is logged
// and the message counts as answered. So does a closed 24-hour window (a
// message delivered late, after an outage): retrying cannot reopen it, and
// a reply has no template to fall back on.
func (c *Conversation) reply(ctx context.Context, to string, payload []byte) error {
	_, err := c.Sender.Send(ctx, to, payload, uuid.Nil)
	var permanent *outbox.PermanentError
	var closed *outbox.WindowClosedError
	if errors.As(err, &permanent) || errors.As(err, &closed) {
		c.Log.WarnContext(ctx, "reply refused", slog.String("error", err.Error()))
		return nil
	}
	return err
}

// usableID: Meta's ids are short printable strings; Postgres refuses NUL.
func usableID(id string) bool {
	return id != "" && len(id) <= 256 && utf8.ValidString(id) && !strings.ContainsFunc(id, unicode.IsControl)
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
