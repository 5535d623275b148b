package whatsapp

import "encoding/json"

// Notification is the envelope of every webhook POST.
type Notification struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one WhatsApp Business Account's changes.
type Entry struct {
	ID      string   `json:"id"`
	Changes []Change `json:"changes"`
}

// Change carries one field's value; `messages` is the field the shop
// subscribes to.
type Change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}
