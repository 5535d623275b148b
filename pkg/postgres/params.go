package postgres

import (
	"net/url"
	"strings"
)

// hasParam tells whether the connection string sets a parameter itself, in
// URL (postgres://…?name=) or keyword/value (name=value) form.
func hasParam(databaseURL, name string) bool {
	if u, err := url.Parse(databaseURL); err == nil && u.Scheme != "" {
		return u.Query().Has(name)
	}
	for _, field := range strings.Fields(databaseURL) {
		if strings.HasPrefix(field, name+"=") {
			return true
		}
	}
	return false
}
