package app

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/wa-shop/shop/pkg/lambdahttp"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// chat drives the webhook as Meta would, for customer 15550001 (Ada).
type chat struct {
	t    *testing.T
	shop *shop
	srv  *httptest.Server
}

func newChat(t *testing.T) *chat {
	s := shopEnv(t)
	routes, err := Routes(t.Context(), slog.New(slog.DiscardHandler), false)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(routes)
	t.Cleanup(srv.Close)
	s.stripe.SetWebhookURL(srv.URL + "/payment-callback")
	return &chat{t: t, shop: s, srv: srv}
}

// notification wraps one message object as Meta delivers it.
func notification(phoneNumberID, message string) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages",
		"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":%q},
		"contacts":[{"profile":{"name":"Ada"},"wa_id":"15550001"}],"messages":[%s]}}]}]}`, phoneNumberID, message)
}

func (c *chat) message(id, kind, body string) string {
	return fmt.Sprintf(`{"from":"15550001","id":%q,"timestamp":"%d","type":%q,%s}`, id, time.Now().Unix(), kind, body)
}

func (c *chat) text(id, body string) string {
	return c.message(id, "text", fmt.Sprintf(`"text":{"body":%q}`, body))
}

// post delivers a signed notification and returns the status.
func (c *chat) post(body []byte) int {
	req, _ := http.NewRequestWithContext(c.t.Context(), "POST", c.srv.URL+"/webhook", bytes.NewReader(body))
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.SignatureHeaderValue(body, "sec"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (c *chat) say(message string) int { return c.post(notification("1", message)) }

// replies are the bodies the shop sent Ada.
func (c *chat) replies() []string {
	var out []string
	for _, m := range c.shop.graph.Messages("15550001") {
		out = append(out, string(m.Body))
	}
	return out
}

func (c *chat) count(sql string, args ...any) int {
	var n int
	if err := c.shop.db.QueryRow(c.t.Context(), sql, args...).Scan(&n); err != nil {
		c.t.Fatal(err)
	}
	return n
}

func TestGreetingGetsTheCatalogue(t *testing.T) {
	c := newChat(t)
	if st := c.say(c.text("wamid.hi", "hi")); st != 200 {
		t.Fatalf("status %d", st)
	}
	r := c.replies()
	if len(r) != 1 || !strings.Contains(r[0], `"type":"list"`) || !strings.Contains(r[0], `"id":"sku:TEE"`) {
		t.Fatalf("replies: %v", r)
	}
}

func TestTheWholeSaleFromGreetingToConfirmation(t *testing.T) {
	c := newChat(t)
	c.say(c.text("wamid.1", "hi"))
	if st := c.say(c.message("wamid.2", "interactive",
		`"interactive":{"type":"list_reply","list_reply":{"id":"sku:TEE","title":"T-shirt"}}`)); st != 200 {
		t.Fatalf("selection: status %d", st)
	}
	r := c.replies()
	if len(r) != 2 || !strings.Contains(r[1], "Pay now") {
		t.Fatalf("replies: %v", r)
	}
	sessions := c.shop.stripe.Sessions()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions", len(sessions))
	}
	res, err := c.shop.stripe.Pay(t.Context(), sessions[0].ID, false)
	if err != nil || res.WebhookStatus != 200 {
		t.Fatalf("pay: %v, callback %d %s", err, res.WebhookStatus, res.WebhookError)
	}
	type state struct{ Paid, OnHand, Holds, Confirmations int }
	got := state{
		Paid:   c.count(`SELECT count(*) FROM orders WHERE status = 'paid'`),
		OnHand: c.count(`SELECT stock_on_hand FROM variants WHERE sku = 'TEE'`),
		Holds:  int(c.shop.rdb.ZCard(t.Context(), "{inv}:holds_by_release").Val()),
	}
	for _, body := range c.replies() {
		if strings.Contains(body, `"name":"order_confirmation"`) {
			got.Confirmations++
		}
	}
	if want := (state{Paid: 1, OnHand: 99, Holds: 0, Confirmations: 1}); got != want {
		t.Errorf("after paying: %+v, want %+v", got, want)
	}
}

func TestCancelGivesUpTheUnpaidOrder(t *testing.T) {
	c := newChat(t)
	c.say(c.text("wamid.c1", "buy TEE 2"))
	if st := c.say(c.text("wamid.c2", "cancel my order")); st != 200 {
		t.Fatalf("cancel: status %d", st)
	}
	c.say(c.text("wamid.c3", "cancel"))
	r := c.replies()
	if len(r) != 3 || !strings.Contains(r[1], "is cancelled") || !strings.Contains(r[2], "no unpaid order") {
		t.Fatalf("replies: %v", r)
	}
	type state struct{ Cancelled, Held int }
	got := state{
		Cancelled: c.count(`SELECT count(*) FROM orders WHERE status = 'cancelled'`),
		Held:      int(c.shop.rdb.ZCard(t.Context(), "{inv}:holds_by_release").Val()),
	}
	if want := (state{Cancelled: 1}); got != want {
		t.Errorf("after cancelling: %+v, want %+v", got, want)
	}
	if s := c.shop.stripe.Sessions(); len(s) != 1 || s[0].Status != "expired" {
		t.Errorf("sessions: %+v", s)
	}
}

func TestTheSameOrderMessageFiveTimesAtOnce(t *testing.T) {
	c := newChat(t)
	body := notification("1", c.text("wamid.dup", "buy tee 2"))
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { c.post(body) })
	}
	wg.Wait()
	// Copies that found another one in flight were refused; Meta retries them.
	if st := c.post(body); st != 200 {
		t.Fatalf("a later copy: status %d", st)
	}
	if n := c.count(`SELECT count(*) FROM orders`); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
	if n := len(c.replies()); n != 1 {
		t.Errorf("%d replies, want one payment link", n)
	}
}

func TestCartsArePricedFromTheCatalogue(t *testing.T) {
	c := newChat(t)
	c.say(c.message("wamid.cart", "order", `"order":{"catalog_id":"1","product_items":[
		{"product_retailer_id":"TEE","quantity":2,"item_price":0.01,"currency":"USD"}]}`))
	if n := c.count(`SELECT total_minor FROM orders`); n != 3000 {
		t.Errorf("total %d, want 3000 (two at 15.00, not the cart's 0.01)", n)
	}
}

func TestRepliesToWhatCannotBeSold(t *testing.T) {
	tests := []struct{ say, want string }{
		{"buy NOPE 1", "We have no item NOPE"},
		{"buy LAST 2", "only 1 of LAST left"},
		{"buy TEE 99", "at most 10 per order"},
	}
	for i, tt := range tests {
		t.Run(tt.say, func(t *testing.T) {
			c := newChat(t)
			if st := c.say(c.text(fmt.Sprintf("wamid.no%d", i), tt.say)); st != 200 {
				t.Fatalf("status %d", st)
			}
			r := c.replies()
			if len(r) != 1 || !strings.Contains(r[0], tt.want) {
				t.Errorf("replies %v, want one containing %q", r, tt.want)
			}
		})
	}
}

func TestMessagesForAnotherNumberAreIgnored(t *testing.T) {
	c := newChat(t)
	if st := c.post(notification("999", c.text("wamid.other", "buy TEE 1"))); st != 200 {
		t.Fatalf("status %d", st)
	}
	if n := len(c.replies()) + c.count(`SELECT count(*) FROM orders`); n != 0 {
		t.Errorf("a message for another number was answered")
	}
}

func TestAStaleMessageHoldsNothing(t *testing.T) {
	c := newChat(t)
	old := fmt.Sprintf(`{"from":"15550001","id":"wamid.old","timestamp":"%d","type":"text","text":{"body":"buy TEE 1"}}`,
		time.Now().Add(-3*time.Hour).Unix())
	c.say(old)
	r := c.replies()
	if c.count(`SELECT count(*) FROM orders`) != 0 || len(r) != 1 || !strings.Contains(r[0], "slow reply") {
		t.Errorf("stale message: replies %v", r)
	}
}

// A message delivered days late, after an outage: Meta refuses the reply
// (the 24-hour window closed). Retrying cannot change that, so the message
// is answered 200 and recorded, not retried for a week.
func TestAReplyOutsideTheWindowIsNotRetried(t *testing.T) {
	c := newChat(t)
	c.shop.graph.Fail(graph.Failure{Count: 1, Status: 400, Code: 131047, Message: "Re-engagement message"})
	late := fmt.Sprintf(`{"from":"15550001","id":"wamid.days","timestamp":"%d","type":"text","text":{"body":"hi"}}`,
		time.Now().Add(-30*time.Hour).Unix())
	if st := c.say(late); st != 200 {
		t.Fatalf("status %d, want 200", st)
	}
	if n := c.count(`SELECT count(*) FROM processed_messages WHERE wa_message_id = 'wamid.days'`); n != 1 {
		t.Errorf("message recorded %d times, want 1", n)
	}
}

// A message without a readable date is treated as late: it holds no stock.
func TestAnUndatedMessageHoldsNothing(t *testing.T) {
	c := newChat(t)
	c.say(`{"from":"15550001","id":"wamid.undated","type":"text","text":{"body":"buy TEE 1"}}`)
	if r := c.replies(); c.count(`SELECT count(*) FROM orders`) != 0 || len(r) != 1 || !strings.Contains(r[0], "slow reply") {
		t.Errorf("undated message: %d orders, replies %v", c.count(`SELECT count(*) FROM orders`), r)
	}
}

// "More…" tapped on a list sent before the catalogue shrank, or a page id
// nobody sent: the customer gets the first page, not a list Meta refuses.
func TestAPagePastTheEndShowsTheFirst(t *testing.T) {
	c := newChat(t)
	for i, page := range []string{"page:7", "page:999999999999999"} {
		reply := c.message(fmt.Sprintf("wamid.page%d", i), "interactive",
			fmt.Sprintf(`"interactive":{"type":"list_reply","list_reply":{"id":%q,"title":"More…"}}`, page))
		if st := c.say(reply); st != 200 {
			t.Fatalf("%s: status %d", page, st)
		}
		if r := c.replies(); len(r) != i+1 || !strings.Contains(r[i], `"rows":[{`) {
			t.Errorf("%s: %d replies, the last %.80s; want a list with rows", page, len(r), r[len(r)-1])
		}
	}
}

// A failure answers 5xx; Meta's retry then does the work exactly once.
func TestAGraphFailureIsRetriedByMeta(t *testing.T) {
	c := newChat(t)
	c.shop.graph.Fail(graph.Failure{Count: 1, Status: 500, Code: 2, Message: "temporarily unavailable"})
	body := notification("1", c.text("wamid.retry", "menu"))
	if st := c.post(body); st < 500 {
		t.Fatalf("status %d, want 5xx", st)
	}
	if st := c.post(body); st != 200 {
		t.Fatalf("retry: status %d", st)
	}
	if st := c.post(body); st != 200 || len(c.replies()) != 1 {
		t.Errorf("after the retry and a duplicate: status %d, %d replies, want 1", st, len(c.replies()))
	}
}

// Statuses arrive out of order and twice; the outbox row only moves forward.
func TestStatusesOutOfOrder(t *testing.T) {
	c := newChat(t)
	c.say(c.text("wamid.buy", "buy TEE 1"))
	sent := c.shop.graph.Messages("15550001")
	if len(sent) != 1 {
		t.Fatalf("%d messages", len(sent))
	}
	for _, st := range []string{"read", "delivered", "sent", "read"} {
		status := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
			"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
			"statuses":[{"id":%q,"status":%q,"timestamp":"%d","recipient_id":"15550001"}]}}]}]}`, sent[0].ID, st, time.Now().Unix())
		if code := c.post([]byte(status)); code != 200 {
			t.Fatalf("%s: status %d", st, code)
		}
	}
	if n := c.count(`SELECT count(*) FROM outbox WHERE status = 'read'`); n != 1 {
		t.Errorf("outbox row not read after statuses out of order")
	}
}

// Meta accepts a message sent outside the customer's 24-hour window and
// reports it failed later (131047) in a status: the message's template
// fallback then goes out, once however often the status comes.
func TestAFailedStatusOutsideTheWindowSendsTheTemplate(t *testing.T) {
	t.Setenv("PAYMENT_LINK_TEMPLATE", "payment_link")
	c := newChat(t)
	c.say(c.text("wamid.buy", "buy TEE 1"))
	sent := c.shop.graph.Messages("15550001")
	if len(sent) != 1 {
		t.Fatalf("%d messages", len(sent))
	}
	failed := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
		"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
		"statuses":[{"id":%q,"status":"failed","timestamp":"%d","recipient_id":"15550001",
			"errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message",
				"error_data":{"details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]}]}}]}]}`,
		sent[0].ID, time.Now().Unix())
	for range 2 {
		if code := c.post(failed); code != 200 {
			t.Fatalf("failed status: %d", code)
		}
	}
	sent = c.shop.graph.Messages("15550001")
	if len(sent) != 2 || !bytes.Contains(sent[1].Body, []byte(`"name":"payment_link"`)) {
		t.Fatalf("%d messages, want the link and then its template", len(sent))
	}
	if n := c.count(`SELECT count(*) FROM outbox WHERE kind = 'payment_link:template' AND status = 'sent'`); n != 1 {
		t.Errorf("%d template rows sent, want 1", n)
	}
}

// Netlify base64-encodes bodies it does not take for text; the signature
// is over the decoded bytes, which the adapter restores.
func TestABase64BodyThroughTheLambdaAdapter(t *testing.T) {
	c := newChat(t)
	h, err := Webhook(t.Context(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	body := notification("1", c.text("wamid.b64", "hi"))
	for _, tt := range []struct {
		name, signature string
		want            int
	}{
		{"signed", whatsapp.SignatureHeaderValue(body, "sec"), 200},
		{"signature of the base64 text", whatsapp.SignatureHeaderValue([]byte(base64.StdEncoding.EncodeToString(body)), "sec"), 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := lambdahttp.Handler(h)(t.Context(), events.APIGatewayProxyRequest{
				HTTPMethod: "POST", Path: "/.netlify/functions/webhook", IsBase64Encoded: true,
				Body:    base64.StdEncoding.EncodeToString(body),
				Headers: map[string]string{"x-hub-signature-256": tt.signature},
			})
			if err != nil || resp.StatusCode != tt.want {
				t.Errorf("status %d (%v), want %d", resp.StatusCode, err, tt.want)
			}
		})
	}
	if n := len(c.replies()); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
}

// A batch of several messages from two customers, and a status, in one
// delivery: each message answered once, in order.
func TestABatch(t *testing.T) {
	c := newChat(t)
	batch := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[
		{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
			"contacts":[{"profile":{"name":"Ada"},"wa_id":"15550001"}],
			"messages":[%s,%s]}}]},
		{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
			"contacts":[{"profile":{"name":"Bo"},"wa_id":"15550002"}],
			"messages":[{"from":"15550002","id":"wamid.b3","timestamp":"%d","type":"text","text":{"body":"menu"}}],
			"statuses":[{"id":"wamid.unknown","status":"delivered","timestamp":"1","recipient_id":"15550002"}]}}]}]}`,
		c.text("wamid.b1", "hi"), c.text("wamid.b2", "buy TEE 1"), time.Now().Unix())
	if st := c.post(batch); st != 200 {
		t.Fatalf("status %d", st)
	}
	ada := c.replies()
	if len(ada) != 2 || !strings.Contains(ada[0], `"type":"list"`) || !strings.Contains(ada[1], "Pay now") {
		t.Errorf("Ada's replies, in order: %v", ada)
	}
	if n := len(c.shop.graph.Messages("15550002")); n != 1 {
		t.Errorf("Bo got %d replies, want 1", n)
	}
	if n := c.count(`SELECT count(*) FROM processed_messages`); n != 3 {
		t.Errorf("%d messages recorded, want 3", n)
	}
}

// A customer who adopted a username is known by a business-scoped user id
// only (Meta's example: no from, no wa_id). They are answered, and can buy,
// through the recipient field.
func TestACustomerKnownOnlyByABSUID(t *testing.T) {
	c := newChat(t)
	const bsuid = "US.13491208655302741918"
	say := func(id, body string) int {
		return c.post(fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
			"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
			"contacts":[{"profile":{"name":"Sheena","username":"@sheena"},"user_id":%q}],
			"messages":[{"from_user_id":%q,"id":%q,"timestamp":"%d","type":"text","text":{"body":%q}}]}}]}]}`,
			bsuid, bsuid, id, time.Now().Unix(), body))
	}
	if st := say("wamid.u1", "hi"); st != 200 {
		t.Fatalf("status %d", st)
	}
	if st := say("wamid.u2", "buy TEE 1"); st != 200 {
		t.Fatalf("status %d", st)
	}
	sent := c.shop.graph.Messages(bsuid)
	if len(sent) != 2 || !strings.Contains(string(sent[0].Body), `"recipient":"US.13491208655302741918"`) ||
		strings.Contains(string(sent[0].Body), `"to"`) || !strings.Contains(string(sent[1].Body), "Pay now") {
		t.Fatalf("sent to the BSUID: %d messages %v", len(sent), sent)
	}
	if n := c.count(`SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.wa_id = $1`, bsuid); n != 1 {
		t.Errorf("%d orders for the BSUID customer, want 1", n)
	}
}

// Meta's notice that Ada changed her number moves her to it: the payment
// link still waiting to go out goes to the new number, and her unpaid order
// is hers when she writes from there. The notice itself gets no answer.
func TestACustomerWhoChangesTheirNumber(t *testing.T) {
	c := newChat(t)
	const newNumber = "15550002"
	// The link's first send fails, so it is still queued for the old number.
	c.shop.graph.Fail(graph.Failure{Count: 1, Status: 500, Code: 2, Message: "temporarily unavailable"})
	if st := c.say(c.text("wamid.n1", "buy TEE 1")); st != 200 {
		t.Fatalf("order: status %d", st)
	}
	if n := c.count(`SELECT count(*) FROM outbox WHERE recipient = '15550001' AND status = 'pending'`); n != 1 {
		t.Fatalf("%d payment links queued for the old number, want 1", n)
	}
	notice := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
		"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
		"messages":[{"from":"15550001","id":"wamid.n2","timestamp":"%d","type":"system",
		"system":{"body":"User Ada changed from 15550001 to %s","wa_id":%q,"type":"user_changed_number"}}]}}]}]}`,
		time.Now().Unix(), newNumber, newNumber)
	for range 2 { // Meta delivers at least once
		if st := c.post(notice); st != 200 {
			t.Fatalf("notice: status %d", st)
		}
	}
	type state struct{ OldRows, NewRows, QueuedForOld, QueuedForNew, Replies int }
	got := state{
		OldRows:      c.count(`SELECT count(*) FROM customers WHERE wa_id = '15550001'`),
		NewRows:      c.count(`SELECT count(*) FROM customers WHERE wa_id = $1`, newNumber),
		QueuedForOld: c.count(`SELECT count(*) FROM outbox WHERE recipient = '15550001' AND status = 'pending'`),
		QueuedForNew: c.count(`SELECT count(*) FROM outbox WHERE recipient = $1 AND status = 'pending'`, newNumber),
		Replies:      len(c.shop.graph.Messages("15550001")) + len(c.shop.graph.Messages(newNumber)),
	}
	if want := (state{NewRows: 1, QueuedForNew: 1}); got != want {
		t.Errorf("after the notice: %+v, want %+v", got, want)
	}
	fromNew := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
		"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
		"contacts":[{"profile":{"name":"Ada"},"wa_id":%q}],
		"messages":[{"from":%q,"id":"wamid.n3","timestamp":"%d","type":"text","text":{"body":"cancel"}}]}}]}]}`,
		newNumber, newNumber, time.Now().Unix())
	if st := c.post(fromNew); st != 200 {
		t.Fatalf("cancel from the new number: status %d", st)
	}
	sent := c.shop.graph.Messages(newNumber)
	if len(sent) != 1 || !strings.Contains(string(sent[0].Body), "is cancelled") {
		t.Errorf("replies to the new number: %v", sent)
	}
	if n := c.count(`SELECT count(*) FROM orders WHERE status = 'cancelled'`); n != 1 {
		t.Errorf("%d orders cancelled from the new number, want 1", n)
	}
}

// A customer known only by a BSUID is addressed by it, so a new BSUID moves
// them like a new number does.
func TestACustomerWhoseBSUIDChanges(t *testing.T) {
	c := newChat(t)
	const oldID, newID = "US.13491208655302741918", "US.20260811000000000001"
	order := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
		"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
		"contacts":[{"profile":{"name":"Sheena"},"user_id":%q}],
		"messages":[{"from_user_id":%q,"id":"wamid.b1","timestamp":"%d","type":"text","text":{"body":"buy TEE 1"}}]}}]}]}`,
		oldID, oldID, time.Now().Unix())
	if st := c.post(order); st != 200 {
		t.Fatalf("order: status %d", st)
	}
	notice := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
		"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
		"messages":[{"from_user_id":%q,"id":"wamid.b2","timestamp":"%d","type":"system",
		"system":{"body":"changed","type":"user_changed_user_id","user_id":%q,"previous_user_id":%q}}]}}]}]}`,
		oldID, time.Now().Unix(), newID, oldID)
	if st := c.post(notice); st != 200 {
		t.Fatalf("notice: status %d", st)
	}
	if n := c.count(`SELECT count(*) FROM customers c JOIN orders o ON o.customer_id = c.id
		WHERE c.wa_id = $1 AND c.user_id = $1 AND o.status = 'pending_payment'`, newID); n != 1 {
		t.Errorf("%d unpaid orders under the new BSUID, want 1", n)
	}
}
