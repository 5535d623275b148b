package main

// What the customer does: send messages, as Meta delivers them to the shop's
// webhook, and pay, as the Stripe stand-in's checkout page does. Shapes follow
// pkg/whatsapp/testdata/inbound (text.json, interactive_*_reply.json).

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/wa-shop/shop/pkg/whatsapp"
)

// Values Meta would fill in that the local shop never checks; made up, and
// the same as the Graph stand-in's callbacks use.
const (
	businessAccountID  = "100000000000000"
	displayPhoneNumber = "15550000000"
)

type (
	notification struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}
	entry struct {
		ID      string   `json:"id"`
		Changes []change `json:"changes"`
	}
	change struct {
		Value value  `json:"value"`
		Field string `json:"field"`
	}
	value struct {
		MessagingProduct string `json:"messaging_product"`
		Metadata         struct {
			DisplayPhoneNumber string `json:"display_phone_number"`
			PhoneNumberID      string `json:"phone_number_id"`
		} `json:"metadata"`
		Contacts []contact `json:"contacts"`
		Messages []inbound `json:"messages"`
	}
	contact struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID   string `json:"wa_id"`
		UserID string `json:"user_id"`
	}
	// inbound is one message from the customer; send fills From, ID and
	// Timestamp.
	inbound struct {
		Context     *replyContext `json:"context,omitempty"`
		From        string        `json:"from"`
		ID          string        `json:"id"`
		Timestamp   string        `json:"timestamp"`
		Type        string        `json:"type"`
		Text        *textBody     `json:"text,omitempty"`
		Interactive *interactive  `json:"interactive,omitempty"`
	}
	replyContext struct {
		From string `json:"from"`
		ID   string `json:"id"`
	}
	textBody struct {
		Body string `json:"body"`
	}
	interactive struct {
		Type        string  `json:"type"`
		ListReply   *choice `json:"list_reply,omitempty"`
		ButtonReply *choice `json:"button_reply,omitempty"`
	}
)

func textMessage(body string) inbound {
	return inbound{Type: "text", Text: &textBody{Body: body}}
}

// message is the interactive reply a tap on ch sends, in answer to the
// message replyTo, as WhatsApp sends it.
func (ch choice) message(replyTo string) inbound {
	in := &interactive{Type: ch.Kind}
	if ch.Kind == "list_reply" {
		in.ListReply = &ch
	} else {
		in.ButtonReply = &ch
	}
	return inbound{Context: &replyContext{From: displayPhoneNumber, ID: replyTo}, Type: "interactive", Interactive: in}
}

// post delivers m to the shop's webhook, signed as Meta signs.
func (c *chat) post(ctx context.Context, m inbound) error {
	m.From, m.ID, m.Timestamp = c.cfg.waID, newWAMID(), strconv.FormatInt(time.Now().Unix(), 10)
	v := value{MessagingProduct: "whatsapp", Messages: []inbound{m}}
	v.Metadata.DisplayPhoneNumber, v.Metadata.PhoneNumberID = displayPhoneNumber, c.cfg.phoneNumberID
	ct := contact{WaID: c.cfg.waID, UserID: bsuid(c.cfg.waID)}
	ct.Profile.Name = c.cfg.name
	v.Contacts = []contact{ct}
	body, err := json.Marshal(notification{Object: "whatsapp_business_account",
		Entry: []entry{{ID: businessAccountID, Changes: []change{{Value: v, Field: "messages"}}}}})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.webhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.SignatureHeaderValue(body, c.cfg.appSecret))
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("post to the shop's webhook (is ./build.sh dev running?): %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("the webhook refused the signature (401): chat and the shop disagree on WHATSAPP_APP_SECRET")
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("the webhook answered %s: %s", resp.Status, strings.TrimSpace(string(answer)))
	}
	return nil
}

// pay pays link (or the last checkout link) through the Stripe stand-in's
// control API, which then sends the shop the signed event a real payment
// would, and shows what the shop says next.
func (c *chat) pay(ctx context.Context, link string) error {
	if link = strings.TrimSpace(link); link == "" {
		link = c.payURL
	}
	if link == "" {
		fmt.Fprintln(c.out, "no checkout link yet: order something first")
		return nil
	}
	fmt.Fprintf(c.out, "checkout page: %s\n", link)
	prefix := c.cfg.stripeURL + "/pay/"
	if c.cfg.stripeURL == "" || !strings.HasPrefix(link, prefix) {
		fmt.Fprintln(c.out, "(not the local Stripe stand-in's page: open it in a browser to pay)")
		return nil
	}
	id := path.Base(strings.TrimPrefix(link, prefix))
	var res struct {
		WebhookStatus int    `json:"webhook_status"`
		WebhookError  string `json:"webhook_error"`
	}
	if err := c.call(ctx, http.MethodPost, c.cfg.stripeURL+"/_control/sessions/"+url.PathEscape(id)+"/pay", &res); err != nil {
		return fmt.Errorf("pay %s: %w", id, err)
	}
	fmt.Fprintf(c.out, "(paid %s; the shop's payment-callback answered %d%s)\n", id, res.WebhookStatus, res.WebhookError)
	return c.await(ctx)
}

// newWAMID makes a message id shaped like Meta's; the shop deduplicates on
// it, so every message gets a fresh one.
func newWAMID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "wamid." + base64.StdEncoding.EncodeToString(b)
}

// bsuid is a stable business-scoped user id for waID, shaped like Meta's
// (US.13491208655302741918), so the shop sees one customer across runs.
func bsuid(waID string) string {
	h := fnv.New64a()
	h.Write([]byte(waID))
	return fmt.Sprintf("US.%020d", h.Sum64())
}
