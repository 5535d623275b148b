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
		Type: "list", Body: interactiveBody{Text: body},
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
		Body:   interactiveBody{Text: body},
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
