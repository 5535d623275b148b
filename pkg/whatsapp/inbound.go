package whatsapp

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ErrNotWhatsApp marks a body that is malformed JSON or another object.
var ErrNotWhatsApp = errors.New("whatsapp: not a WhatsApp Business Account notification")

type (
	// Batch is one webhook POST of the "messages" field, typed after Meta's
	// reference (pages in testdata/inbound/README.md) and decoded once by
	// encoding/json. Meta batches: entries (one per business account) of
	// changes of several messages or statuses. Unknown fields are ignored;
	// unknown message types keep their Type.
	Batch struct {
		Object string       `json:"object"`
		Entry  []BatchEntry `json:"entry"`
	}
	// BatchEntry is one WhatsApp Business Account's changes.
	BatchEntry struct {
		ID      string        `json:"id"`
		Changes []BatchChange `json:"changes"`
	}
	// BatchChange is one field's value; the methods read only "messages".
	BatchChange struct {
		Field string `json:"field"`
		Value Value  `json:"value"`
	}
	Value struct {
		Metadata Metadata            `json:"metadata"`
		Contacts []Contact           `json:"contacts"`
		Messages []Message           `json:"messages"`
		Statuses []Status            `json:"statuses"`
		Errors   []NotificationError `json:"errors"`
	}
	Metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	// Contact is a customer. UserID, the business-scoped user ID (BSUID), is
	// in every payload since Meta's April 2026 rollout; WaID, the phone number,
	// is omitted for a customer with a username whose number Meta withholds.
	Contact struct {
		WaID    string `json:"wa_id"`
		UserID  string `json:"user_id"`
		Profile struct {
			Name     string `json:"name"`
			Username string `json:"username"` // only if the customer adopted one
		} `json:"profile"`
	}
)

type (
	// Message is one message a customer sent; the pointer Type names is set.
	// From, the phone number, is omitted when the contact's WaID is;
	// FromUserID is the BSUID. ID, the wamid, is the key to deduplicate on.
	Message struct {
		From        string              `json:"from"`
		FromUserID  string              `json:"from_user_id"`
		ID          string              `json:"id"`
		Timestamp   UnixTime            `json:"timestamp"`
		Type        string              `json:"type"`
		Context     *MessageContext     `json:"context"`
		Text        *MessageText        `json:"text"`
		Interactive *Interactive        `json:"interactive"`
		Button      *Button             `json:"button"`
		Order       *Order              `json:"order"`
		Image       *Media              `json:"image"`
		Audio       *Media              `json:"audio"`
		Video       *Media              `json:"video"`
		Document    *Media              `json:"document"`
		Sticker     *Media              `json:"sticker"`
		Location    *Location           `json:"location"`
		Reaction    *Reaction           `json:"reaction"`
		Contacts    json.RawMessage     `json:"contacts"` // shared contact cards: no use to the shop yet
		System      *System             `json:"system"`
		Unsupported *Unsupported        `json:"unsupported"`
		Errors      []NotificationError `json:"errors"` // why Meta could not pass the content on
	}
	// MessageContext is what a message answers: our message whose button was
	// used, or the product whose "Message business" the customer tapped.
	MessageContext struct {
		From            string           `json:"from"`
		ID              string           `json:"id"`
		Forwarded       bool             `json:"forwarded"`
		ReferredProduct *ReferredProduct `json:"referred_product"`
	}
	// ReferredProduct is a catalog product; ProductRetailerID is our SKU.
	ReferredProduct struct {
		CatalogID         string `json:"catalog_id"`
		ProductRetailerID string `json:"product_retailer_id"`
	}
	MessageText struct {
		Body string `json:"body"`
	}
	// Interactive answers an interactive message: Type list_reply,
	// button_reply or nfm_reply (a submitted WhatsApp Flow) sets that field.
	Interactive struct {
		Type        string `json:"type"`
		ListReply   *Reply `json:"list_reply"`
		ButtonReply *Reply `json:"button_reply"`
		NFMReply    *struct {
			Name         string `json:"name"`
			ResponseJSON string `json:"response_json"` // a JSON document in a string
		} `json:"nfm_reply"`
	}
	// Reply is the list row or reply button chosen; ID is the one we sent.
	Reply struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description"` // list rows only
	}
	// Button is a template's quick-reply button, Payload as we sent it.
	Button struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	}
	Order struct {
		CatalogID    string      `json:"catalog_id"`
		Text         string      `json:"text"`
		ProductItems []OrderItem `json:"product_items"`
	}
	// OrderItem is a cart line. Its numbers stay as Meta wrote them (JSON
	// numbers, 2 and 7.99) so no float touches money: ItemPrice is the
	// decimal unit price, to turn into minor units with Currency's exponent,
	// and Quantity.Int64 fails on anything but a whole number.
	OrderItem struct {
		ProductRetailerID string `json:"product_retailer_id"`
		Quantity          Number `json:"quantity"`
		ItemPrice         Number `json:"item_price"`
		Currency          string `json:"currency"`
	}
	// Media is an image, audio, video, document or sticker (by media ID).
	Media struct {
		ID       string `json:"id"`
		MimeType string `json:"mime_type"`
		SHA256   string `json:"sha256"`
		Caption  string `json:"caption"`
		Filename string `json:"filename"` // documents
		Animated bool   `json:"animated"` // stickers
		Voice    bool   `json:"voice"`    // audio recorded as a voice note
	}
	// Location is a shared place; Meta sends coordinates as JSON numbers.
	Location struct {
		Latitude  Coordinate `json:"latitude"`
		Longitude Coordinate `json:"longitude"`
		Name      string     `json:"name"`
		Address   string     `json:"address"`
	}
	// Reaction is an emoji on our message; none when it is taken back.
	Reaction struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	}
	// System is a customer's new identity: user_changed_number (new WaID;
	// the message's From is the old number) or user_changed_user_id (new
	// UserID, no phone number). Both report the BSUID it replaces (Meta's
	// changelog, August 2026). Its value carries no contacts.
	System struct {
		Body           string `json:"body"`
		Type           string `json:"type"`
		WaID           string `json:"wa_id"`
		UserID         string `json:"user_id"`
		PreviousUserID string `json:"previous_user_id"`
	}
	// Unsupported names what the Cloud API could not pass on (poll_creation,
	// gif, …); the message's Errors say why (131051, 131060).
	Unsupported struct {
		Type string `json:"type"`
	}
)

type (
	// Status is the fate of a message we sent (sent, delivered, read, played,
	// failed): ID is Send's wamid. RecipientID, the phone number, is omitted
	// if we sent to a BSUID; RecipientUserID, if one sent to a number failed.
	Status struct {
		ID                    string              `json:"id"`
		Status                string              `json:"status"`
		Timestamp             UnixTime            `json:"timestamp"`
		RecipientID           string              `json:"recipient_id"`
		RecipientUserID       string              `json:"recipient_user_id"`
		BizOpaqueCallbackData string              `json:"biz_opaque_callback_data"`
		Conversation          *Conversation       `json:"conversation"` // gone from v24.0 but for free entry points
		Pricing               *Pricing            `json:"pricing"`      // with sent, and delivered or read
		Errors                []NotificationError `json:"errors"`       // with failed
	}
	Conversation struct {
		ID     string `json:"id"`
		Origin struct {
			Type string `json:"type"` // the conversation's category
		} `json:"origin"`
	}
	Pricing struct {
		PricingModel string `json:"pricing_model"`
		Type         string `json:"type"`
		Category     string `json:"category"`
	}
	// NotificationError is an error Meta reports in a notification. As with
	// the send API, decide on Code (and ErrorData.Details), not on the text.
	NotificationError struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	}
)

// UnixTime is Meta's timestamp, unix seconds as a string or number, in UTC.
// Anything else reads as zero time: one odd field must not make a batch of
// other customers' messages a 400 that Meta retries for days.
type UnixTime struct{ time.Time }

func (t *UnixTime) UnmarshalJSON(b []byte) error {
	t.Time = time.Time{}
	if sec, err := strconv.ParseInt(strings.Trim(string(b), `"`), 10, 64); err == nil && sec > 0 && sec < 1<<40 {
		t.Time = time.Unix(sec, 0).UTC()
	}
	return nil
}

// Number is a JSON number as Meta wrote it. A value that is no number (a
// string of letters, an object) reads as empty instead of failing the
// whole signed delivery, which Meta would then retry for a week with every
// other customer's messages in it; the item it belongs to is refused alone.
type Number string

func (n *Number) UnmarshalJSON(b []byte) error {
	var v json.Number
	if json.Unmarshal(b, &v) != nil {
		v = ""
	}
	*n = Number(v)
	return nil
}

// Int64 reads a whole number; anything else is an error.
func (n Number) Int64() (int64, error) { return json.Number(n).Int64() }

// Coordinate is a latitude or longitude; one that is no number reads as 0,
// for the same reason as Number.
type Coordinate float64

func (c *Coordinate) UnmarshalJSON(b []byte) error {
	var n Number
	_ = n.UnmarshalJSON(b)
	x, err := json.Number(n).Float64()
	if err != nil {
		x = 0
	}
	*c = Coordinate(x)
	return nil
}

// ParseNotification decodes a webhook body and checks its envelope; what to
// act on is then read with Inbound, Statuses and Errors.
func ParseNotification(body []byte) (*Batch, error) {
	var b Batch
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotWhatsApp, err)
	}
	if b.Object != "whatsapp_business_account" {
		// Not echoed: the error may be logged, and the body is the sender's.
		return nil, fmt.Errorf("%w: wrong object", ErrNotWhatsApp)
	}
	return &b, nil
}

// InboundMessage is a message with who sent it and to which of our numbers.
type InboundMessage struct {
	Message               // its Kind method is InboundMessage's
	Sender        Contact // zero when Meta sent none (system messages)
	PhoneNumberID string
	AccountID     string // the WhatsApp Business Account, entry.id
}

// Inbound flattens the messages in Meta's order; mine were sent to
// phoneNumberID. Meta sends all of an app's numbers to its one webhook:
// others are to count and log, never to answer from our number.
func (b *Batch) Inbound(phoneNumberID string) (mine, others []InboundMessage) {
	for account, v := range b.values() {
		for i := range v.Messages {
			m := &v.Messages[i]
			in := InboundMessage{Message: *m, Sender: v.sender(m),
				PhoneNumberID: v.Metadata.PhoneNumberID, AccountID: account}
			if in.PhoneNumberID == phoneNumberID {
				mine = append(mine, in)
			} else {
				others = append(others, in)
			}
		}
	}
	return mine, others
}

// ReplyTo is where a reply to the message goes: the sender's phone number
// when Meta shares it, else their business-scoped user id (BSUID), which
// users who adopted a username are known by. Empty for system messages.
func (m InboundMessage) ReplyTo() string {
	return cmp.Or(m.Sender.WaID, m.From, m.Sender.UserID, m.FromUserID)
}

// IsBSUID tells a business-scoped user id ("US.13491208655302741918": a
// country code, a dot, up to 128 letters and digits) from a wa_id, which is
// digits only.
func IsBSUID(id string) bool {
	return len(id) > 3 && id[2] == '.' && !strings.ContainsFunc(id, unicode.IsSpace)
}

// sender finds m's contact by phone number or BSUID. Meta warns that wa_id
// and from "may not always match", and its own BSUID example has neither
// from nor from_user_id, so a lone contact is taken unless its BSUID differs.
func (v *Value) sender(m *Message) Contact {
	for _, c := range v.Contacts {
		if (m.From != "" && c.WaID == m.From) || (m.FromUserID != "" && c.UserID == m.FromUserID) {
			return c
		}
	}
	if len(v.Contacts) == 1 && (m.FromUserID == "" || v.Contacts[0].UserID == "") {
		return v.Contacts[0]
	}
	return Contact{}
}

// WindowClosed says whether a failed status reports a message refused
// because the customer last wrote more than 24 hours ago: only a template
// reaches them now.
func (s Status) WindowClosed() bool {
	for _, e := range s.Errors {
		if e.Code == codeReengagement {
			return true
		}
	}
	return false
}

// Statuses flattens the statuses, unfiltered: a wamid is unique.
func (b *Batch) Statuses() []Status {
	var out []Status
	for _, v := range b.values() {
		out = append(out, v.Statuses...)
	}
	return out
}

// Errors flattens errors about a whole value (throttling, the account).
func (b *Batch) Errors() []NotificationError {
	var out []NotificationError
	for _, v := range b.values() {
		out = append(out, v.Errors...)
	}
	return out
}

// values yields each messages-field value with its account ID, in order.
func (b *Batch) values() iter.Seq2[string, *Value] {
	return func(yield func(string, *Value) bool) {
		for _, e := range b.Entry {
			for i := range e.Changes {
				if c := &e.Changes[i]; c.Field == "messages" && !yield(e.ID, &c.Value) {
					return
				}
			}
		}
	}
}

// Kind is what a message means to the shop.
type Kind string

const (
	KindText           Kind = "text"
	KindListReply      Kind = "list_reply"
	KindButtonReply    Kind = "button_reply"
	KindQuickReply     Kind = "quick_reply" // a template's quick-reply button
	KindOrder          Kind = "order"
	KindProductInquiry Kind = "product_inquiry" // sent from a product's "Message business"
	KindIdentityChange Kind = "identity_change" // a system message: new phone number or BSUID
	KindOther          Kind = "other"
)

// Kind classifies m; the field its kind reads (m.Text for KindText…) is then
// non-nil. A referred product wins over the type, as Meta sends a question
// about a product as a text whose context names it; an order wins over both.
func (m *Message) Kind() Kind {
	switch {
	case m.Type == "order" && m.Order != nil:
		return KindOrder
	case m.Context != nil && m.Context.ReferredProduct != nil:
		return KindProductInquiry
	case m.Type == "text" && m.Text != nil:
		return KindText
	case m.Type == "button" && m.Button != nil:
		return KindQuickReply
	case m.Type == "system" && m.System != nil &&
		(m.System.Type == "user_changed_number" || m.System.Type == "user_changed_user_id"):
		return KindIdentityChange
	case m.Type == "interactive" && m.Interactive != nil:
		switch it := m.Interactive; {
		case it.Type == "list_reply" && it.ListReply != nil:
			return KindListReply
		case it.Type == "button_reply" && it.ButtonReply != nil:
			return KindButtonReply
		}
	}
	return KindOther
}
