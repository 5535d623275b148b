package conversation

import (
	"regexp"
	"strconv"
)

// intent is what a text message asks for.
type intent struct {
	cancel   bool
	buy      bool
	sku      string
	quantity int
}

// buyPattern reads "buy TSHIRT-M 2", "BUY tshirt-m", "buy TSHIRT-M x2".
var buyPattern = regexp.MustCompile(`(?i)^\s*(?:buy|order)\s+([A-Za-z0-9][A-Za-z0-9._-]*)(?:\s+x?(\d{1,4}))?\s*$`)

// cancelPattern reads "cancel", "cancel order", "Cancel my order!".
var cancelPattern = regexp.MustCompile(`(?i)^\s*cancel(?:\s+(?:my\s+)?order)?\s*[.!]?\s*$`)

// readIntent understands "buy SKU N" and "cancel"; anything else is a
// request for the catalogue (greetings, "menu", "catalog", questions the
// shop cannot answer).
func readIntent(text string) intent {
	if cancelPattern.MatchString(text) {
		return intent{cancel: true}
	}
	m := buyPattern.FindStringSubmatch(text)
	if m == nil {
		return intent{}
	}
	q := 1
	if m[2] != "" {
		q, _ = strconv.Atoi(m[2])
	}
	return intent{buy: true, sku: m[1], quantity: q}
}
