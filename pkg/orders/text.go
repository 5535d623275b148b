package orders

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a request may carry into Postgres: the schema's own
// (variants.sku is at most 100 characters), and generous bounds on the
// rest, so a hostile request is refused as invalid instead of failing in
// Postgres as if it were down (and being retried by Meta for a week).
const (
	maxSKULength = 100
	// A customer is addressed by phone number (20 digits at most) or, when
	// Meta shares none, by business-scoped user id: a country code, a dot
	// and up to 128 letters and digits.
	maxWaIDLength = 140
	maxNameLength = 256 // profile names are the customer's to choose
)

// plainText reports whether s is valid UTF-8 of at most max characters
// without control characters (Postgres refuses NUL in text outright).
func plainText(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max &&
		strings.IndexFunc(s, unicode.IsControl) < 0
}

// checkCustomer refuses a wa_id Postgres could not store or WhatsApp could
// not address, and tidies the display name, which is never a reason to
// refuse an order.
func checkCustomer(c Customer) (Customer, error) {
	if !plainText(c.WaID, maxWaIDLength) || !plainText(c.UserID, maxWaIDLength) || strings.HasPrefix(c.WaID, guestPrefix) {
		return c, invalid("customer id is not a valid WhatsApp id")
	}
	name := strings.ToValidUTF8(c.Name, "")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	if utf8.RuneCountInString(name) > maxNameLength {
		name = string([]rune(name)[:maxNameLength])
	}
	c.Name = strings.TrimSpace(name)
	return c, nil
}
