package whatsapp

import "encoding/json"

// Payloads are the part of a Cloud API send body that says what to send:
// "type" and the object it names. The envelope (messaging_product,
// recipient_type, to, biz_opaque_callback_data) is added by Client.Send, so
// a payload can wait in the outbox without knowing its transport. Shapes
// follow Meta's send-message reference; the stand-in in pkg/standin/graph
// checks the same rules.

type textPayload struct {
	Type string      `json:"type"`
	Text textContent `json:"text"`
}

type textContent struct {
	Body string `json:"body"`
}

// Text is a plain text message (at most 4096 characters). It may only be
// sent within 24 hours of the customer's last message; outside that window
// Meta refuses it (131047) and only a template will do.
func Text(body string) json.RawMessage {
	return mustJSON(textPayload{Type: "text", Text: textContent{Body: cut(body, maxTextBody)}})
}

// maxTextBody is the longest text message Meta takes.
const maxTextBody = 4096

type templatePayload struct {
	Type     string          `json:"type"`
	Template templateContent `json:"template"`
}

type templateContent struct {
	Name       string              `json:"name"`
	Language   templateLanguage    `json:"language"`
	Components []templateComponent `json:"components,omitempty"`
}

type templateLanguage struct {
	Code string `json:"code"`
}

type templateComponent struct {
	Type       string              `json:"type"`
	SubType    string              `json:"sub_type,omitempty"`
	Index      string              `json:"index,omitempty"`
	Parameters []templateParameter `json:"parameters"`
}

type templateParameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Template is an approved message template, the only kind of message Meta
// delivers outside the 24-hour window (order confirmations and shipping
// updates can come later than that). bodyParams fill the body's {{1}},
// {{2}}, … in order; none leaves the template as approved.
func Template(name, language string, bodyParams ...string) json.RawMessage {
	t := templateContent{Name: name, Language: templateLanguage{Code: language}}
	if len(bodyParams) > 0 {
		body := templateComponent{Type: "body"}
		for _, p := range bodyParams {
			body.Parameters = append(body.Parameters, templateParameter{Type: "text", Text: p})
		}
		t.Components = []templateComponent{body}
	}
	return mustJSON(templatePayload{Type: "template", Template: t})
}

// TemplateWithURLButton is Template whose first button opens a URL: the
// approved template holds the URL's fixed start, urlSuffix fills its {{1}}
// (an order's path, say).
func TemplateWithURLButton(name, language, urlSuffix string, bodyParams ...string) json.RawMessage {
	var t templatePayload
	if err := json.Unmarshal(Template(name, language, bodyParams...), &t); err != nil {
		panic("whatsapp: template: " + err.Error())
	}
	t.Template.Components = append(t.Template.Components, templateComponent{
		Type: "button", SubType: "url", Index: "0",
		Parameters: []templateParameter{{Type: "text", Text: urlSuffix}},
	})
	return mustJSON(t)
}

// mustJSON marshals the payload types above, which hold only strings and
// cannot fail to encode.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("whatsapp: encode payload: " + err.Error())
	}
	return b
}
