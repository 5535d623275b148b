package graph

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// sendRequest is the part of a send body the stand-in checks. Fields it does
// not check (context, biz_opaque_callback_data, template components, …) pass
// through untouched and stay visible in the recorded raw body.
type sendRequest struct {
	MessagingProduct string       `json:"messaging_product"`
	RecipientType    string       `json:"recipient_type"`
	To               string       `json:"to"`
	Recipient        string       `json:"recipient"` // a BSUID, for users known by no phone number
	Type             string       `json:"type"`
	Text             *text        `json:"text"`
	Interactive      *interactive `json:"interactive"`
	Template         *template    `json:"template"`
}

type text struct {
	Body string `json:"body"`
}

type interactive struct {
	Type   string   `json:"type"`
	Header *header  `json:"header"`
	Body   *caption `json:"body"`
	Action *action  `json:"action"`
}

// header and caption are the interactive parts that carry "text", where a
// text message carries "body".
type header struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type caption struct {
	Text string `json:"text"`
}

type action struct {
	Name       string `json:"name"`
	Parameters *struct {
		DisplayText string `json:"display_text"`
		URL         string `json:"url"`
	} `json:"parameters"`
	Button            string    `json:"button"`
	Buttons           []button  `json:"buttons"`
	CatalogID         string    `json:"catalog_id"`
	ProductRetailerID string    `json:"product_retailer_id"`
	Sections          []section `json:"sections"`
}

type button struct {
	Type  string `json:"type"`
	Reply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"reply"`
}

type section struct {
	Title        string `json:"title"`
	Rows         []row  `json:"rows"`
	ProductItems []struct {
		ProductRetailerID string `json:"product_retailer_id"`
	} `json:"product_items"`
}

type row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

type template struct {
	Name     string `json:"name"`
	Language *struct {
		Code string `json:"code"`
	} `json:"language"`
}

// Limits Meta documents for the message types the shop sends.
const (
	maxTextBody      = 4096
	maxInteractive   = 1024 // an interactive message's body text
	maxListSections  = 10
	maxListRows      = 10 // across all sections
	maxButtons       = 3
	maxProductItems  = 30 // across all sections
	maxProductGroups = 10
	maxRowTitle      = 24
	maxRowDesc       = 72
	maxRowID         = 200
	maxListButton    = 20
	maxReplyTitle    = 20
	maxReplyID       = 256
)

// validate checks a send as Meta does and returns the error Meta would
// answer with, or nil. It fills the default type, text, as Meta does.
func validate(req *sendRequest) *Error {
	switch {
	case req.MessagingProduct == "":
		return ptr(invalidParameter("The parameter messaging_product is required."))
	case req.MessagingProduct != "whatsapp":
		return ptr(invalidParameter(fmt.Sprintf("Param messaging_product must be one of {WHATSAPP} - got %q.", req.MessagingProduct)))
	case req.RecipientType != "" && req.RecipientType != "individual":
		return ptr(invalidParameter(fmt.Sprintf("Param recipient_type must be one of {INDIVIDUAL} - got %q.", req.RecipientType)))
	case req.To == "" && req.Recipient == "":
		return ptr(invalidParameter("The parameter to is required."))
	}
	if req.Type == "" {
		req.Type = "text"
	}
	switch req.Type {
	case "text":
		return validateText(req.Text)
	case "interactive":
		return validateInteractive(req.Interactive)
	case "template":
		return validateTemplate(req.Template)
	}
	// Meta supports more types (image, document, reaction, …); the shop does
	// not send them, so the stand-in says plainly that it does not check them.
	return ptr(invalidParameter(fmt.Sprintf("stand-in: message type %q is not supported (text, interactive, template)", req.Type)))
}

func validateText(t *text) *Error {
	switch {
	case t == nil || t.Body == "":
		return ptr(invalidParameter("The parameter text['body'] is required."))
	case runes(t.Body) > maxTextBody:
		return ptr(invalidParameter(fmt.Sprintf("Param text['body'] must be at most %d characters long.", maxTextBody)))
	}
	return nil
}

func validateTemplate(t *template) *Error {
	switch {
	case t == nil:
		return ptr(invalidParameter("The parameter template is required."))
	case t.Name == "":
		return ptr(invalidParameter("The parameter template['name'] is required."))
	case t.Language == nil || t.Language.Code == "":
		return ptr(invalidParameter("The parameter template['language']['code'] is required."))
	}
	return nil
}

func validateInteractive(in *interactive) *Error {
	if in == nil {
		return ptr(invalidParameter("The parameter interactive is required."))
	}
	if in.Type == "" {
		return ptr(invalidParameter("The parameter interactive['type'] is required."))
	}
	if in.Action == nil {
		return ptr(invalidParameter("The parameter interactive['action'] is required."))
	}
	needsBody := in.Type != "product"
	if needsBody && (in.Body == nil || in.Body.Text == "") {
		return ptr(invalidParameter("The parameter interactive['body']['text'] is required."))
	}
	if in.Body != nil && utf8.RuneCountInString(in.Body.Text) > maxInteractive {
		return ptr(invalidParameter(fmt.Sprintf("Param interactive['body']['text'] must be at most %d characters long.", maxInteractive)))
	}
	switch in.Type {
	case "list":
		return validateList(in.Action)
	case "button":
		return validateButtons(in.Action.Buttons)
	case "product":
		if in.Action.CatalogID == "" || in.Action.ProductRetailerID == "" {
			return ptr(invalidParameter("The parameters interactive['action']['catalog_id'] and ['product_retailer_id'] are required."))
		}
		return nil
	case "product_list":
		return validateProductList(in)
	case "cta_url":
		p := in.Action.Parameters
		switch {
		case in.Action.Name != "cta_url" || p == nil:
			return ptr(invalidParameter("The parameters interactive['action']['name'] = cta_url and ['parameters'] are required."))
		case p.DisplayText == "" || utf8.RuneCountInString(p.DisplayText) > 20:
			return ptr(invalidParameter("The parameter interactive['action']['parameters']['display_text'] must be 1 to 20 characters."))
		case !strings.HasPrefix(p.URL, "https://") && !strings.HasPrefix(p.URL, "http://"):
			return ptr(invalidParameter("The parameter interactive['action']['parameters']['url'] must be an http(s) URL."))
		}
		return nil
	}
	return ptr(invalidParameter(fmt.Sprintf("stand-in: interactive type %q is not supported (list, button, product, product_list, cta_url)", in.Type)))
}

func validateList(a *action) *Error {
	if a.Button == "" {
		return ptr(invalidParameter("The parameter interactive['action']['button'] is required."))
	}
	if runes(a.Button) > maxListButton {
		return ptr(notValid(fmt.Sprintf("Button title length invalid. Max length allowed: %d", maxListButton)))
	}
	if len(a.Sections) == 0 || len(a.Sections) > maxListSections {
		return ptr(notValid(fmt.Sprintf("Invalid number of sections: %d. Min allowed: 1, max allowed: %d", len(a.Sections), maxListSections)))
	}
	total := 0
	for _, s := range a.Sections {
		if len(a.Sections) > 1 && s.Title == "" {
			return ptr(notValid("Section title is required when there is more than one section"))
		}
		for _, r := range s.Rows {
			switch {
			case r.ID == "" || r.Title == "":
				return ptr(notValid("Row id and title are required"))
			case runes(r.ID) > maxRowID:
				return ptr(notValid(fmt.Sprintf("Row id length invalid. Max length allowed: %d", maxRowID)))
			case runes(r.Title) > maxRowTitle:
				return ptr(notValid(fmt.Sprintf("Row title length invalid. Max length allowed: %d", maxRowTitle)))
			case runes(r.Description) > maxRowDesc:
				return ptr(notValid(fmt.Sprintf("Row description length invalid. Max length allowed: %d", maxRowDesc)))
			}
		}
		total += len(s.Rows)
	}
	if total == 0 {
		return ptr(notValid("Min allowed rows: 1"))
	}
	if total > maxListRows {
		return ptr(notValid(fmt.Sprintf("Total row count exceed max allowed count: %d", maxListRows)))
	}
	return nil
}

func validateButtons(buttons []button) *Error {
	if len(buttons) == 0 || len(buttons) > maxButtons {
		return ptr(notValid(fmt.Sprintf("Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: %d", maxButtons)))
	}
	seen := map[string]bool{}
	for _, b := range buttons {
		switch {
		case b.Type != "reply" || b.Reply == nil:
			return ptr(notValid("Button type must be reply, with a reply object"))
		case b.Reply.ID == "" || b.Reply.Title == "":
			return ptr(notValid("Button id and title are required"))
		case runes(b.Reply.ID) > maxReplyID:
			return ptr(notValid(fmt.Sprintf("Button id length invalid. Max length allowed: %d", maxReplyID)))
		case runes(b.Reply.Title) > maxReplyTitle:
			return ptr(notValid(fmt.Sprintf("Button title length invalid. Max length allowed: %d", maxReplyTitle)))
		case seen[b.Reply.ID]:
			return ptr(notValid("Button ids must be unique"))
		}
		seen[b.Reply.ID] = true
	}
	return nil
}

func validateProductList(in *interactive) *Error {
	a := in.Action
	switch {
	case in.Header == nil || in.Header.Text == "":
		return ptr(invalidParameter("The parameter interactive['header'] is required for product_list."))
	case a.CatalogID == "":
		return ptr(invalidParameter("The parameter interactive['action']['catalog_id'] is required."))
	case len(a.Sections) == 0 || len(a.Sections) > maxProductGroups:
		return ptr(notValid(fmt.Sprintf("Invalid number of sections: %d. Min allowed: 1, max allowed: %d", len(a.Sections), maxProductGroups)))
	}
	total := 0
	for _, s := range a.Sections {
		if s.Title == "" || len(s.ProductItems) == 0 {
			return ptr(notValid("Each section needs a title and at least one product item"))
		}
		for _, p := range s.ProductItems {
			if p.ProductRetailerID == "" {
				return ptr(notValid("product_retailer_id is required"))
			}
		}
		total += len(s.ProductItems)
	}
	if total > maxProductItems {
		return ptr(notValid(fmt.Sprintf("Total product count exceed max allowed count: %d", maxProductItems)))
	}
	return nil
}

// runes counts characters, not bytes: Meta's limits are in characters.
func runes(s string) int { return utf8.RuneCountInString(s) }

func ptr[T any](v T) *T { return &v }
