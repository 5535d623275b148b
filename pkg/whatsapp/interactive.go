package whatsapp

import "encoding/json"

// Limits Meta sets on interactive messages; longer values are refused
// (131009), so builders cut them to fit.
const (
	MaxListRows        = 10 // in all sections together
	MaxListSections    = 10
	MaxProductListItem = 30
	maxRowTitle        = 24
	maxRowDescription  = 72
	maxButtonText      = 20
	maxSectionTitle    = 24
	maxHeaderText      = 60
	maxBodyText        = 1024 // an interactive message's body
)

// Row is one choice in a list message; ID comes back in the list_reply.
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Section groups rows (or, for product lists, catalogue items).
type Section struct {
	Title        string        `json:"title,omitempty"`
	Rows         []Row         `json:"rows,omitempty"`
	ProductItems []ProductItem `json:"product_items,omitempty"`
}

// ProductItem names a catalogue item by its retailer id (our SKU).
type ProductItem struct {
	ProductRetailerID string `json:"product_retailer_id"`
}

type interactivePayload struct {
	Type        string             `json:"type"`
	Interactive interactiveContent `json:"interactive"`
}

type interactiveContent struct {
	Type   string            `json:"type"`
	Header *interactiveText  `json:"header,omitempty"`
	Body   interactiveBody   `json:"body"`
	Footer *interactiveBody  `json:"footer,omitempty"`
	Action interactiveAction `json:"action"`
}

type interactiveText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type interactiveBody struct {
	Text string `json:"text"`
}

type interactiveAction struct {
	Button    string    `json:"button,omitempty"`
	CatalogID string    `json:"catalog_id,omitempty"`
	Sections  []Section `json:"sections"`
}

// List is an interactive list: a button that opens sections of rows.
func List(body, button string, sections ...Section) json.RawMessage {
	for i := range sections {
		sections[i].Title = cut(sections[i].Title, maxSectionTitle)
		for j := range sections[i].Rows {
			r := &sections[i].Rows[j]
			r.Title, r.Description = cut(r.Title, maxRowTitle), cut(r.Description, maxRowDescription)
		}
	}
	return mustJSON(interactivePayload{Type: "interactive", Interactive: interactiveContent{
		Type: "list", Body: interactiveBody{Text: cut(body, maxBodyText)},
		Action: interactiveAction{Button: cut(button, maxButtonText), Sections: sections},
	}})
}

// ProductList shows items of the Meta catalogue; the customer's cart comes
// back as an order message.
func ProductList(catalogID, header, body string, sections ...Section) json.RawMessage {
	for i := range sections {
		sections[i].Title = cut(sections[i].Title, maxSectionTitle)
	}
	return mustJSON(interactivePayload{Type: "interactive", Interactive: interactiveContent{
		Type: "product_list", Header: &interactiveText{Type: "text", Text: cut(header, maxHeaderText)},
		Body:   interactiveBody{Text: cut(body, maxBodyText)},
		Action: interactiveAction{CatalogID: catalogID, Sections: sections},
	}})
}

// cut shortens s to n characters (not bytes: titles are often not ASCII).
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ReplyButton is one reply button; ID comes back in the button_reply.
type ReplyButton struct {
	ID    string
	Title string
}

type replyButtonJSON struct {
	Type  string      `json:"type"`
	Reply buttonReply `json:"reply"`
}

type buttonReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type buttonsAction struct {
	Buttons []replyButtonJSON `json:"buttons"`
}

// MaxButtons is how many reply buttons Meta allows on one message.
const MaxButtons = 3

// Buttons is a message with up to three reply buttons.
func Buttons(body string, buttons ...ReplyButton) json.RawMessage {
	action := buttonsAction{}
	for _, b := range buttons[:min(len(buttons), MaxButtons)] {
		action.Buttons = append(action.Buttons, replyButtonJSON{Type: "reply", Reply: buttonReply{ID: b.ID, Title: cut(b.Title, maxButtonText)}})
	}
	return interactive("button", body, action)
}

type productAction struct {
	CatalogID         string `json:"catalog_id"`
	ProductRetailerID string `json:"product_retailer_id"`
}

// Product shows one item of the Meta catalogue.
func Product(catalogID, sku, body string) json.RawMessage {
	return interactive("product", body, productAction{CatalogID: catalogID, ProductRetailerID: sku})
}

type ctaAction struct {
	Name       string        `json:"name"`
	Parameters ctaParameters `json:"parameters"`
}

type ctaParameters struct {
	DisplayText string `json:"display_text"`
	URL         string `json:"url"`
}

// CTAURL is a message with one button that opens a URL (a payment link
// reads better behind "Pay now" than as a raw URL).
func CTAURL(body, buttonText, url string) json.RawMessage {
	return interactive("cta_url", body, ctaAction{Name: "cta_url",
		Parameters: ctaParameters{DisplayText: cut(buttonText, maxButtonText), URL: url}})
}

// interactive wraps an action of any shape; list and product_list build
// their own because their action shares the catalogue fields.
func interactive(kind, body string, action any) json.RawMessage {
	return mustJSON(struct {
		Type        string `json:"type"`
		Interactive struct {
			Type   string          `json:"type"`
			Body   interactiveBody `json:"body"`
			Action any             `json:"action"`
		} `json:"interactive"`
	}{Type: "interactive", Interactive: struct {
		Type   string          `json:"type"`
		Body   interactiveBody `json:"body"`
		Action any             `json:"action"`
	}{kind, interactiveBody{Text: cut(body, maxBodyText)}, action}})
}
