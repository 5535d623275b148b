package main

// Rendering: a Graph API send body, as the shop sent it, turned into what a
// customer would read in WhatsApp. Shapes: pkg/whatsapp/message.go and
// interactive.go, and Meta's send-message pages (developers.facebook.com/
// documentation/business-messaging/whatsapp/messages/: interactive-list-
// messages, interactive-reply-buttons-messages, interactive-cta-url-messages,
// and the catalogue's single- and multi-product messages). A shape chat does
// not know is printed raw rather than dropped, so nothing the shop sends is
// hidden from the person testing it.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// view is a reply as the terminal shows it.
type view struct {
	Text    string
	Choices []choice // numbered options, in the order shown
	PayURL  string   // the last checkout link in the message
}

// choice is a numbered option: a list row or a reply button. It is also the
// list_reply or button_reply a tap on it sends back.
type choice struct {
	Kind        string `json:"-"` // list_reply or button_reply
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"` // list rows only
}

type (
	sent struct {
		Type        string `json:"type"`
		Text        *struct{ Body string }
		Interactive *sentInteractive
		Template    *struct {
			Name     string
			Language struct{ Code string }
			// Parameters are text, currency, date_time, payload or media.
			Components []struct {
				Type       string
				SubType    string `json:"sub_type"`
				Parameters []map[string]json.RawMessage
			}
		}
	}
	sentInteractive struct {
		Type         string
		Header       *struct{ Type, Text string }
		Body, Footer *struct{ Text string }
		Action       struct {
			Button   string
			Buttons  []struct{ Reply choice }
			Sections []struct {
				Title        string
				Rows         []choice
				ProductItems []struct {
					ProductRetailerID string `json:"product_retailer_id"`
				} `json:"product_items"`
			}
			CatalogID         string `json:"catalog_id"`
			ProductRetailerID string `json:"product_retailer_id"`
			Parameters        *struct {
				DisplayText string `json:"display_text"`
				URL         string
			}
		}
	}
)

// shown are the interactive types chat can show.
var shown = map[string]bool{"list": true, "button": true, "product_list": true, "product": true, "cta_url": true}

// payLink finds checkout links: the Stripe stand-in's /pay/<session> page
// and Stripe's own checkout pages alike.
var payLink = regexp.MustCompile(`https?://[^\s"<>]+/pay/cs_[A-Za-z0-9_]+`)

// render turns one send body into a view.
func render(body []byte) view {
	var m sent
	if err := json.Unmarshal(body, &m); err != nil {
		return view{Text: "(unreadable) " + string(body)}
	}
	var v view
	var b strings.Builder
	switch {
	case m.Type == "text" && m.Text != nil:
		b.WriteString(m.Text.Body)
	case m.Type == "template" && m.Template != nil:
		renderTemplate(&b, m)
	case m.Type == "interactive" && m.Interactive != nil && shown[m.Interactive.Type]:
		v.Choices = renderInteractive(&b, m.Interactive)
	default:
		fmt.Fprintf(&b, "(%s message) %s", m.Type, body)
	}
	v.Text = strings.TrimRight(b.String(), "\n")
	if links := payLink.FindAllString(v.Text, -1); len(links) > 0 {
		v.PayURL = links[len(links)-1]
	}
	return v
}

func renderTemplate(b *strings.Builder, m sent) {
	t := m.Template
	fmt.Fprintf(b, "[template %s (%s)]", t.Name, t.Language.Code)
	for _, c := range t.Components {
		name := strings.Join(strings.Fields(c.Type+" "+c.SubType), " ")
		var params []string
		for _, p := range c.Parameters {
			params = append(params, parameter(p))
		}
		fmt.Fprintf(b, "\n%s: %s", name, strings.Join(params, " | "))
	}
}

// parameter shows a template parameter as WhatsApp would fill it in: its
// text, or the fallback value of a currency or date.
func parameter(p map[string]json.RawMessage) string {
	var kind string
	_ = json.Unmarshal(p["type"], &kind)
	var s string
	switch kind {
	case "text", "payload":
		_ = json.Unmarshal(p[kind], &s)
	case "currency", "date_time":
		var v struct {
			FallbackValue string `json:"fallback_value"`
		}
		_ = json.Unmarshal(p[kind], &v)
		s = v.FallbackValue
	}
	if s == "" {
		s = fmt.Sprintf("[%s %s]", kind, p[kind])
	}
	return s
}

// renderInteractive writes header, body, footer, then the action, in the
// order WhatsApp shows them, and returns the numbered choices.
func renderInteractive(b *strings.Builder, in *sentInteractive) []choice {
	switch h := in.Header; {
	case h != nil && h.Text != "":
		fmt.Fprintf(b, "*%s*\n", h.Text)
	case h != nil:
		fmt.Fprintf(b, "[%s]\n", h.Type) // an image, video or document
	}
	if in.Body != nil && in.Body.Text != "" {
		fmt.Fprintf(b, "%s\n", in.Body.Text)
	}
	if in.Footer != nil && in.Footer.Text != "" {
		fmt.Fprintf(b, "_%s_\n", in.Footer.Text)
	}
	a := in.Action
	var choices []choice
	switch in.Type {
	case "list":
		fmt.Fprintf(b, "[%s]\n", a.Button)
		for _, s := range a.Sections {
			if s.Title != "" {
				fmt.Fprintf(b, "%s\n", s.Title)
			}
			for _, r := range s.Rows {
				r.Kind = "list_reply"
				choices = append(choices, r)
				fmt.Fprintf(b, "  %d. %s\n", len(choices), strings.Join(nonEmpty(r.Title, r.Description), " — "))
			}
		}
	case "button":
		for _, btn := range a.Buttons {
			btn.Reply.Kind = "button_reply"
			choices = append(choices, btn.Reply)
			fmt.Fprintf(b, "  %d. [%s]\n", len(choices), btn.Reply.Title)
		}
	case "product_list":
		for _, s := range a.Sections {
			fmt.Fprintf(b, "%s\n", s.Title)
			for _, p := range s.ProductItems {
				fmt.Fprintf(b, "  • %s\n", p.ProductRetailerID)
			}
		}
		fmt.Fprintf(b, "(catalogue %s: chat cannot fill a cart; order in words)\n", a.CatalogID)
	case "product":
		fmt.Fprintf(b, "[product %s from catalogue %s]\n", a.ProductRetailerID, a.CatalogID)
	case "cta_url":
		if p := a.Parameters; p != nil {
			fmt.Fprintf(b, "[%s] %s\n", p.DisplayText, p.URL)
		}
	}
	return choices
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
