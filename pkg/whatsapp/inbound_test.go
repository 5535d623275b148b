package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Example values of Meta's webhook reference, shared by the golden files
// (testdata/inbound/README.md says which page each comes from).
const (
	exAccount  = "102290129340398"
	exPhoneID  = "106540352242922"
	exWAID     = "16505551234"
	exBSUID    = "US.13491208655302741918"
	exTime     = 1739321024
	wamidText  = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
	wamidEx    = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
	wamidCtx   = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
	wamidSent  = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
	outboxUUID = "6f1c2e0a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
)

func at(sec int64) UnixTime { return UnixTime{time.Unix(sec, 0).UTC()} }

func contact(waID, userID, name, username string) Contact {
	c := Contact{WaID: waID, UserID: userID}
	c.Profile.Name, c.Profile.Username = name, username
	return c
}

var (
	sheena         = contact(exWAID, "", "Sheena Nelson", "")
	sheenaUsername = contact("", exBSUID, "Sheena Nelson", "sheena.nelson")
	jordan         = contact("447700900123", "", "Jordan Lee", "")
	replyCtx       = &MessageContext{From: "15550783881", ID: wamidCtx}
)

// inbound completes m as most golden files have it: Meta's example sender,
// wamid and time, sent to Meta's example number.
func inbound(typ string, m Message) InboundMessage {
	m.Type = typ
	if m.From == "" && m.FromUserID == "" {
		m.From = exWAID
	}
	if m.ID == "" {
		m.ID = wamidEx
	}
	if m.Timestamp.IsZero() {
		m.Timestamp = at(exTime)
	}
	return InboundMessage{Message: m, Sender: sheena, PhoneNumberID: exPhoneID, AccountID: exAccount}
}

func sentBy(c Contact, in InboundMessage) InboundMessage { in.Sender = c; return in }

func nerr(code int, title, message, details string) NotificationError {
	e := NotificationError{Code: code, Title: title, Message: message}
	e.ErrorData.Details = details
	return e
}

func ourStatus(status string, sec int64) Status {
	return Status{ID: wamidSent, Status: status, Timestamp: at(sec), RecipientID: exWAID,
		RecipientUserID: exBSUID, BizOpaqueCallbackData: outboxUUID}
}

type golden struct {
	mine     []InboundMessage
	kinds    []Kind
	others   []InboundMessage
	statuses []Status
	errors   []NotificationError
}

func goldenCases() map[string]golden {
	sent := ourStatus("sent", 1750857384)
	sent.Conversation = &Conversation{ID: "a75d17ad06104c51166f948319b03c6a"}
	sent.Conversation.Origin.Type = "service"
	sent.Pricing = &Pricing{PricingModel: "CBP", Category: "service"}
	delivered := ourStatus("delivered", 1750857390)
	delivered.Pricing = &Pricing{PricingModel: "PMP", Type: "regular", Category: "utility"}
	failed := ourStatus("failed", 1750857390)
	failed.RecipientUserID = ""
	failed.Errors = []NotificationError{nerr(131047, "Re-engagement message", "Re-engagement message",
		"Message failed to send because more than 24 hours have passed since the customer last replied to this number.")}
	items := []OrderItem{{"di9ozbzfi4", "2", "7.99", "USD"}, {"nqryix03ez", "1", "12.50", "USD"}}
	product := &MessageContext{From: "15550783881", ID: wamidCtx,
		ReferredProduct: &ReferredProduct{CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4"}}
	return map[string]golden{
		"testdata/text_message.json": {kinds: []Kind{KindText}, mine: []InboundMessage{inbound("text", Message{
			ID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", Timestamp: at(1749416383),
			Text: &MessageText{Body: "buy TSHIRT-M 2"}})}},
		"text.json": {kinds: []Kind{KindText}, mine: []InboundMessage{inbound("text", Message{ID: wamidText,
			Timestamp: at(1749416383), Text: &MessageText{Body: "Does it come in another color?"}})}},
		"text_referred_product.json": {kinds: []Kind{KindProductInquiry}, mine: []InboundMessage{inbound("text",
			Message{Context: product, Text: &MessageText{Body: "Is this still available?"}})}},
		"interactive_list_reply.json": {kinds: []Kind{KindListReply}, mine: []InboundMessage{inbound("interactive",
			Message{Context: replyCtx, Interactive: &Interactive{Type: "list_reply", ListReply: &Reply{
				ID: "priority_express", Title: "Priority Mail Express", Description: "Next Day to 2 Days"}}})}},
		"interactive_button_reply.json": {kinds: []Kind{KindButtonReply}, mine: []InboundMessage{inbound("interactive",
			Message{Context: replyCtx, Interactive: &Interactive{Type: "button_reply",
				ButtonReply: &Reply{ID: "cancel-button", Title: "Cancel"}}})}},
		"button_quick_reply.json": {kinds: []Kind{KindQuickReply}, mine: []InboundMessage{inbound("button",
			Message{Context: replyCtx, Button: &Button{Payload: "unsubscribe_promos", Text: "Unsubscribe"}})}},
		"order.json": {kinds: []Kind{KindOrder}, mine: []InboundMessage{inbound("order", Message{Order: &Order{
			CatalogID: "194836987003835", Text: "Love these!", ProductItems: items}})}},
		"image.json": {kinds: []Kind{KindOther}, mine: []InboundMessage{inbound("image", Message{Image: &Media{
			ID: "1003383421387256", MimeType: "image/jpeg", Caption: "Succulents!",
			SHA256: "cd9beec7f1c2d3e4b5a6978812f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c"}})}},
		"location.json": {kinds: []Kind{KindOther}, mine: []InboundMessage{inbound("location", Message{
			Location: &Location{Latitude: 37.44221496582, Longitude: -122.16135787964, Name: "Philz Coffee",
				Address: "101 Forest Ave, Palo Alto, CA 94301"}})}},
		"reaction.json": {kinds: []Kind{KindOther, KindOther}, mine: []InboundMessage{
			inbound("reaction", Message{Reaction: &Reaction{MessageID: wamidCtx, Emoji: "😀"}}),
			inbound("reaction", Message{ID: wamidText, Timestamp: at(1739321084), Reaction: &Reaction{MessageID: wamidCtx}})}},
		"sticker.json": {kinds: []Kind{KindOther}, mine: []InboundMessage{inbound("sticker", Message{Sticker: &Media{
			ID: "1274810637309151", MimeType: "image/webp",
			SHA256: "2bb0b8a3f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"}})}},
		"unsupported.json": {kinds: []Kind{KindOther}, mine: []InboundMessage{inbound("unsupported", Message{
			Unsupported: &Unsupported{Type: "poll_update"}, Errors: []NotificationError{nerr(131051,
				"Message type unknown", "Message type unknown", "Message type is currently not supported.")}})}},
		"system.json": {kinds: []Kind{KindIdentityChange}, mine: []InboundMessage{sentBy(Contact{}, inbound("system",
			Message{System: &System{Type: "user_changed_number", WaID: "12195555358",
				Body: "User Sheena Nelson changed from 16505551234 to 12195555358"}}))}},
		"system_user_id.json": {kinds: []Kind{KindIdentityChange}, mine: []InboundMessage{sentBy(Contact{}, inbound("system",
			Message{From: "", FromUserID: exBSUID, System: &System{Type: "user_changed_user_id",
				UserID: "US.20260811000000000001", PreviousUserID: exBSUID,
				Body: "User Sheena Nelson's business-scoped user ID changed"}}))}},
		"text_username_no_phone.json": {kinds: []Kind{KindText}, mine: []InboundMessage{sentBy(sheenaUsername,
			inbound("text", Message{FromUserID: exBSUID, Text: &MessageText{Body: "Hi, do you ship to Lisbon?"}}))}},
		"contacts_request_bsuid.json": {kinds: []Kind{KindOther}, mine: []InboundMessage{sentBy(sheenaUsername,
			InboundMessage{Message: Message{ID: wamidEx, Timestamp: at(exTime), Type: "contacts", Contacts: json.RawMessage(
				`[{"vcard":"BEGIN:VCARD\nVERSION:3.0\nFN:Sheena Nelson\nTEL;type=CELL;waid=16505551234:+1 650-555-1234\nEND:VCARD",` +
					`"phones":[{"phone":"+1 650-555-1234"}]}]`)}, PhoneNumberID: exPhoneID, AccountID: exAccount})}},
		"status_sent.json":      {statuses: []Status{sent}},
		"status_delivered.json": {statuses: []Status{delivered}},
		"status_read.json":      {statuses: []Status{ourStatus("read", 1750857512)}},
		"status_failed.json":    {statuses: []Status{failed}},
		"errors.json": {errors: []NotificationError{nerr(130429, "Rate limit hit", "(#130429) Rate limit hit",
			"Cloud API message throughput has been reached.")}},
		"other_phone_number.json": {others: []InboundMessage{{Message: inbound("text", Message{
			Text: &MessageText{Body: "Hello, second shop"}}).Message, Sender: sheena, PhoneNumberID: "987654321098765",
			AccountID: exAccount}}},
		"batch.json": {kinds: []Kind{KindText, KindButtonReply, KindOrder},
			mine: []InboundMessage{
				inbound("text", Message{ID: wamidText, Text: &MessageText{Body: "buy TSHIRT-M 2"}}),
				sentBy(jordan, inbound("interactive", Message{From: "447700900123", Timestamp: at(1739321027),
					ID:      "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0E5RkI2QzE0RjlEMjJEOEFGNTQA",
					Context: replyCtx, Interactive: &Interactive{Type: "button_reply",
						ButtonReply: &Reply{ID: "confirm", Title: "Confirm"}}})),
				inbound("order", Message{Timestamp: at(1739321030), Order: &Order{CatalogID: "194836987003835",
					ProductItems: []OrderItem{{"di9ozbzfi4", "1", "7.99", "USD"}}}}),
			},
			others: []InboundMessage{{Message: inbound("text", Message{Timestamp: at(1739321040),
				ID:   "wamid.HBgLMTY1MDU1NTk5OTkVAgASGBQzQjE3QUE4RjU0ODhDNjhCQjdDRQA=",
				Text: &MessageText{Body: "second account"}}).Message, Sender: sheena,
				PhoneNumberID: "109876543210987", AccountID: "104996122399160"}},
			statuses: []Status{ourStatus("read", 1739321031)}},
	}
}

func TestGoldenNotifications(t *testing.T) {
	cases := goldenCases()
	files, _ := filepath.Glob("testdata/inbound/*.json")
	for _, f := range files { // a golden file nobody asserts is a golden file nobody reads
		if _, ok := cases[filepath.Base(f)]; !ok {
			t.Errorf("%s has no expected result in goldenCases", f)
		}
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			path := name
			if filepath.Dir(name) == "." {
				path = filepath.Join("testdata/inbound", name)
			}
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ParseNotification(body)
			if err != nil {
				t.Fatalf("ParseNotification: %v", err)
			}
			mine, others := b.Inbound(exPhoneID)
			for _, list := range [][]InboundMessage{mine, others} {
				for i := range list {
					if raw := list[i].Contacts; raw != nil { // compare it without the file's indentation
						var buf bytes.Buffer
						_ = json.Compact(&buf, raw)
						list[i].Contacts = buf.Bytes()
					}
				}
			}
			var kinds []Kind
			for i := range mine {
				kinds = append(kinds, mine[i].Kind())
			}
			got := golden{mine: mine, kinds: kinds, others: others, statuses: b.Statuses(), errors: b.Errors()}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(golden{})); diff != "" {
				t.Errorf("parsed notification (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseNotificationRejects(t *testing.T) {
	for name, body := range map[string]string{
		"empty":          ``,
		"truncated":      `{"object":"whatsapp_business_account","entry":[`,
		"not an object":  `[{"object":"whatsapp_business_account"}]`,
		"null":           `null`,
		"another object": `{"object":"page","entry":[]}`,
		"wrong shape":    `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":{}}}]}]}`,
		"id not string":  `{"object":"whatsapp_business_account","entry":[{"id":102290129340398}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			b, err := ParseNotification([]byte(body))
			if !errors.Is(err, ErrNotWhatsApp) || b != nil {
				t.Errorf("ParseNotification = %v, %v; want nil, ErrNotWhatsApp", b, err)
			}
		})
	}
}

// parseOne parses a notification of one value holding value's JSON fields.
func parseOne(t *testing.T, value string) *Batch {
	t.Helper()
	b, err := ParseNotification([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[` +
		`{"field":"messages","value":{"metadata":{"phone_number_id":"` + exPhoneID + `"},` + value + `}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Meta writes timestamps as strings of digits, and a future version may
// write numbers; neither, nor a garbled one, may fail the batch.
func TestTimestampsAreLenient(t *testing.T) {
	for raw, want := range map[string]time.Time{
		`"1739321024"`: time.Unix(1739321024, 0).UTC(), `1739321024`: time.Unix(1739321024, 0).UTC(),
		`"soon"`: {}, `""`: {}, `null`: {}, `-5`: {}, `{"s":1}`: {}, `"99999999999999999999"`: {},
	} {
		b := parseOne(t, `"messages":[{"id":"w","timestamp":`+raw+`,"type":"text","text":{"body":"x"}}],`+
			`"statuses":[{"id":"s","status":"read","timestamp":`+raw+`}]`)
		mine, _ := b.Inbound(exPhoneID)
		if got := mine[0].Timestamp.Time; !got.Equal(want) {
			t.Errorf("message timestamp %s = %v, want %v", raw, got, want)
		}
		if got := b.Statuses()[0].Timestamp.Time; !got.Equal(want) {
			t.Errorf("status timestamp %s = %v, want %v", raw, got, want)
		}
	}
}

// Prices must reach the order code exactly as Meta wrote them; a string
// holding a number (an older shape) reads too.
func TestOrderNumbersStayAsWritten(t *testing.T) {
	b := parseOne(t, `"messages":[{"id":"w","type":"order","order":{"product_items":[`+
		`{"product_retailer_id":"a","quantity":3,"item_price":0.1,"currency":"EUR"},`+
		`{"product_retailer_id":"b","quantity":"2","item_price":"1999.990","currency":"JPY"},`+
		`{"product_retailer_id":"c","quantity":1,"item_price":1e2,"currency":"USD"}]}}]`)
	mine, _ := b.Inbound(exPhoneID)
	want := []OrderItem{{"a", "3", "0.1", "EUR"}, {"b", "2", "1999.990", "JPY"}, {"c", "1", "1e2", "USD"}}
	if diff := cmp.Diff(want, mine[0].Order.ProductItems); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if q, err := mine[0].Order.ProductItems[1].Quantity.Int64(); q != 2 || err != nil {
		t.Errorf("Quantity.Int64() = %d, %v; want 2", q, err)
	}
	// One odd field must not refuse the whole signed delivery (Meta would
	// retry it, every other message in it included, for a week): it reads
	// as no number, and the item is refused on its own.
	b = parseOne(t, `"messages":[{"id":"w1","type":"order","order":{"product_items":[{"product_retailer_id":"a","quantity":"two","item_price":"cheap"}]}},`+
		`{"id":"w2","type":"location","location":{"latitude":"north","longitude":-122.5}}]`)
	mine, _ = b.Inbound(exPhoneID)
	if len(mine) != 2 || mine[0].Order.ProductItems[0] != (OrderItem{"a", "", "", ""}) || mine[1].Location.Longitude != -122.5 {
		t.Errorf("a delivery with odd numbers read as %+v", mine)
	}
	if _, err := mine[0].Order.ProductItems[0].Quantity.Int64(); err == nil {
		t.Error("a quantity that is not a number read as one")
	}
}

func TestSenderMatching(t *testing.T) {
	ann := contact("111", "US.1", "Ann", "")
	bob := contact("222", "US.2", "Bob", "")
	noPhone := contact("", "US.3", "Cy", "cy")
	tests := []struct {
		name     string
		contacts []Contact
		msg      Message
		want     Contact
	}{
		{"by phone number", []Contact{ann, bob}, Message{From: "222"}, bob},
		{"by BSUID", []Contact{ann, noPhone}, Message{FromUserID: "US.3"}, noPhone},
		{"phone number differs from wa_id", []Contact{ann}, Message{From: "+111"}, ann},
		{"no identifiers at all", []Contact{noPhone}, Message{}, noPhone},
		{"lone contact is someone else", []Contact{ann}, Message{From: "222", FromUserID: "US.2"}, Contact{}},
		{"several, none matches", []Contact{ann, bob}, Message{From: "333"}, Contact{}},
		{"no contacts", nil, Message{From: "111"}, Contact{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Value{Contacts: tt.contacts}
			if diff := cmp.Diff(tt.want, v.sender(&tt.msg)); diff != "" {
				t.Errorf("sender (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKindOnlyPromisesWhatIsThere(t *testing.T) {
	product := &MessageContext{ReferredProduct: &ReferredProduct{ProductRetailerID: "SKU"}}
	tests := []struct {
		name string
		msg  Message
		want Kind
	}{
		{"text without its object", Message{Type: "text"}, KindOther},
		{"order that names a product", Message{Type: "order", Order: &Order{}, Context: product}, KindOrder},
		{"image about a product", Message{Type: "image", Image: &Media{}, Context: product}, KindProductInquiry},
		{"flow reply", Message{Type: "interactive", Interactive: &Interactive{Type: "nfm_reply"}}, KindOther},
		{"list reply type without the reply", Message{Type: "interactive", Interactive: &Interactive{Type: "list_reply"}}, KindOther},
		{"type and object disagree", Message{Type: "button", Text: &MessageText{}}, KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.msg.Kind(); got != tt.want {
				t.Errorf("Kind() = %q, want %q", got, tt.want)
			}
		})
	}
}

// A future message type, unknown fields and other webhook fields must
// neither fail the batch nor leak into what the shop acts on.
func TestUnknownsAreKeptOrSkipped(t *testing.T) {
	b, err := ParseNotification([]byte(`{"object":"whatsapp_business_account","new":1,"entry":[{"id":"1","changes":[` +
		`{"field":"messages","value":{"metadata":{"phone_number_id":"` + exPhoneID + `"},"messages":[` +
		`{"from":"1","id":"w","timestamp":"1","type":"hologram","hologram":{"depth":3},"later":[true]}]}},` +
		`{"field":"calls","value":{"statuses":[{"id":"wacid.1","status":"RINGING","type":"call"}],"calls":[{}]}},` +
		`{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT","phone_number":"15550783881"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	mine, others := b.Inbound(exPhoneID)
	if len(mine) != 1 || mine[0].Type != "hologram" || mine[0].Kind() != KindOther || len(others) != 0 {
		t.Errorf("Inbound = %+v, %+v; want the hologram message, kind other", mine, others)
	}
	if s := b.Statuses(); len(s) != 0 {
		t.Errorf("Statuses() = %+v; a call's status is not a message's", s)
	}
}

func TestIsBSUID(t *testing.T) {
	for id, want := range map[string]bool{
		"US.13491208655302741918": true, "US.ENT.11815799212886844830": true,
		"15551234567": false, "": false, "US.": false, "U.S": false,
	} {
		if got := IsBSUID(id); got != want {
			t.Errorf("IsBSUID(%q) = %v, want %v", id, got, want)
		}
	}
}
