// Package scripts holds the operator commands (one folder each) and the Lua
// scripts that keep stock holds atomic in Redis, embedded here so every
// binary carries them.
package scripts

import _ "embed"

// Rebuild replaces availability counters, holds and their indexes with a
// snapshot taken from Postgres, and sets the epoch marker.
//
//go:embed rebuild.lua
var Rebuild string
