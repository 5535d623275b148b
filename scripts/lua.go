// Package scripts holds the operator commands (one folder each) and the Lua
// scripts that keep stock holds atomic in Redis, embedded here so every
// binary carries them.
package scripts

import _ "embed"

//go:embed lib.lua
var lib string

var (
	//go:embed reserve.lua
	reserve string
	//go:embed release.lua
	release string
	//go:embed commit.lua
	commit string
	//go:embed rebuild.lua
	rebuild string
	//go:embed restock.lua
	restock string
	//go:embed extend.lua
	extend string
)

// The inventory scripts, each with the shared helpers in front. Redis
// caches a script by its SHA, so each is sent in full once per server start.
var (
	// Reserve holds every line of an order, all or none.
	Reserve = lib + reserve
	// Release returns an order's held stock, once.
	Release = lib + release
	// Commit turns an order's hold into a sale, once.
	Commit = lib + commit
	// Rebuild replaces availability and holds with a Postgres snapshot.
	Rebuild = lib + rebuild
	// Restock puts a refunded order's units back on sale, once.
	Restock = lib + restock
	// Extend keeps a hold past its release time for a delayed payment.
	Extend = lib + extend
)

var (
	//go:embed reconcile.lua
	reconcile string
	// Reconcile repairs drift between Redis and a Postgres snapshot.
	Reconcile = lib + reconcile
)
