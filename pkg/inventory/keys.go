// Package inventory keeps stock availability and holds in Redis, rebuildable
// from Postgres at any time.
//
// Every key shares the {inv} hash tag so multi-SKU scripts run on one Redis
// Cluster shard: that shard's script rate is the shop's ceiling for holds.
package inventory

const (
	// EpochKey marks availability as built from Postgres. While it is
	// missing (Redis restarted empty, or a rebuild is under way) nothing may
	// be reserved, released or committed.
	EpochKey = "{inv}:epoch"
	// HoldsByReleaseKey indexes holds by release_after, in Unix milliseconds,
	// for cleanup and reconcile.
	HoldsByReleaseKey = "{inv}:holds_by_release"
	// RebuildingKey holds the token of the rebuild in progress.
	RebuildingKey = "{inv}:rebuilding"
)

// StockKey holds the units of sku available to reserve.
func StockKey(sku string) string { return "{inv}:stock:" + sku }

// HoldKey holds an order's hold: sku:<sku> → quantity, expires_at, release_after.
func HoldKey(orderID string) string { return "{inv}:hold:" + orderID }

// DoneKey remembers how an order's hold ended: "released", "committed" or
// "restocked".
func DoneKey(orderID string) string { return "{inv}:done:" + orderID }

// ReservationsBySKUKey indexes the orders holding units of sku, scored by
// release_after in Unix milliseconds: a reservation short of sku gives back
// the lapsed holds it lists.
func ReservationsBySKUKey(sku string) string { return "{inv}:reservations_by_sku:" + sku }
