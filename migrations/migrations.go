// Package migrations embeds the schema so every binary can apply it.
package migrations

import "embed"

// FS holds the goose migrations, named <timestamp>_<what>.sql.
//
//go:embed *.sql
var FS embed.FS
