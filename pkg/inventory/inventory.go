package inventory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// doneTTL keeps the record of how a hold ended for longer than anyone can
// still pay (24 h sessions) or Stripe still retries events (3 days).
const doneTTL = 8 * 24 * time.Hour

// doneTTLArg is doneTTL as the scripts take it, boxed once.
var doneTTLArg any = int64(doneTTL.Seconds())

// ErrRebuilding means availability is being rebuilt from Postgres: nothing
// can be reserved, released or committed for a moment. Try again.
var ErrRebuilding = errors.New("inventory: availability is being rebuilt, try again")

// ErrOutOfStock is matched by every *ShortError.
var ErrOutOfStock = errors.New("inventory: out of stock")

// Shortage is one line that cannot be held.
type Shortage struct {
	SKU       string `json:"sku"`
	Available int    `json:"available"`
	Wanted    int    `json:"wanted"`
}

// ShortError names every line of a refused reservation that lacks stock.
type ShortError struct{ Lines []Shortage }

func (e *ShortError) Error() string {
	parts := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		parts[i] = fmt.Sprintf("%s: %d available, %d wanted", l.SKU, l.Available, l.Wanted)
	}
	return "inventory: out of stock (" + strings.Join(parts, "; ") + ")"
}

func (e *ShortError) Is(target error) bool { return target == ErrOutOfStock }

// Line is a quantity of one SKU.
type Line struct {
	SKU      string
	Quantity int
}

// Hold is what an order asks to reserve.
type Hold struct {
	OrderID string
	Lines   []Line
	// ExpiresAt is how long the shop means to hold; ReleaseAfter is when
	// nobody can pay any more, after which the stock may return by itself.
	ExpiresAt, ReleaseAfter time.Time
}

// Outcome says what a script found.
type Outcome string

const (
	Reserved  Outcome = "ok"        // the hold was taken now
	Held      Outcome = "held"      // the order already held its stock
	Committed Outcome = "committed" // the order's stock is sold
	Released  Outcome = "released"  // the order's stock went back
	Missing   Outcome = "missing"   // no hold is known for the order
)

// Inventory runs the stock scripts against Redis.
type Inventory struct {
	rdb redis.UniversalClient
	now func() time.Time
}

// New builds an Inventory; now is the clock deciding which holds lapsed.
func New(rdb redis.UniversalClient, now func() time.Time) *Inventory {
	if now == nil {
		now = time.Now
	}
	return &Inventory{rdb: rdb, now: now}
}

// Reservation is what Reserve did, and under which epoch of availability.
type Reservation struct {
	Outcome Outcome // Reserved, Held or Committed
	Epoch   string
}

// Reserve holds every line or none. It is idempotent per order: reserving
// again for an order that holds its stock answers Held, and for a sold one
// Committed. A refusal for lack of stock is a *ShortError.
//
// A caller that records the hold in Postgres afterwards must then check that
// Epoch is still current (see Epoch): a rebuild in between may have dropped
// a hold Postgres did not know of yet, and reserving again restores it.
func (inv *Inventory) Reserve(ctx context.Context, h Hold) (Reservation, error) {
	lines := mergeLines(h.Lines)
	if len(lines) == 0 {
		return Reservation{}, errors.New("inventory: reserve: no lines")
	}
	for _, l := range lines {
		if l.Quantity < 1 {
			return Reservation{}, fmt.Errorf("inventory: reserve %s: quantity %d", l.SKU, l.Quantity)
		}
	}
	cmd := reserveScript.command(4+len(lines), 5+2*len(lines))
	cmd = append(cmd, EpochKey, HoldsByReleaseKey, HoldKey(h.OrderID), DoneKey(h.OrderID))
	for _, l := range lines {
		cmd = append(cmd, StockKey(l.SKU))
	}
	cmd = append(cmd, h.OrderID, inv.now().UnixMilli(), h.ExpiresAt.UnixMilli(), h.ReleaseAfter.UnixMilli(), doneTTLArg)
	for _, l := range lines {
		cmd = append(cmd, l.SKU, l.Quantity)
	}
	reply, err := reserveScript.run(ctx, inv.rdb, cmd).Result()
	if err != nil {
		return Reservation{}, fmt.Errorf("reserve order %s: %w", h.OrderID, err)
	}
	// A hold taken now answers its epoch alone: the cheapest reply.
	if epoch, ok := reply.(string); ok {
		return Reservation{Outcome: Reserved, Epoch: epoch}, nil
	}
	r, _ := reply.([]any)
	status := ""
	if len(r) > 0 {
		status, _ = r[0].(string)
	}
	switch status {
	case "held", "committed":
		if len(r) == 2 {
			epoch, _ := r[1].(string)
			return Reservation{Outcome: Outcome(status), Epoch: epoch}, nil
		}
	case "rebuilding":
		return Reservation{}, ErrRebuilding
	case "short":
		return Reservation{}, shortError(r[1:], lines)
	}
	return Reservation{}, fmt.Errorf("reserve order %s: unexpected reply %v", h.OrderID, reply)
}

// Epoch reads the current epoch of availability; empty while rebuilding.
func (inv *Inventory) Epoch(ctx context.Context) (string, error) {
	epoch, err := inv.rdb.Get(ctx, EpochKey).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read epoch: %w", err)
	}
	return epoch, nil
}

// Release returns an order's held stock once; releasing again, or after a
// commit, returns nothing and says what happened before.
func (inv *Inventory) Release(ctx context.Context, orderID string) (Outcome, error) {
	return inv.end(ctx, releaseScript, "release", orderID)
}

// Commit turns an order's hold into a sale once. Released or Missing mean
// the hold is gone: the caller must reserve again before selling.
func (inv *Inventory) Commit(ctx context.Context, orderID string) (Outcome, error) {
	return inv.end(ctx, commitScript, "commit", orderID)
}

func (inv *Inventory) end(ctx context.Context, script *script, verb, orderID string) (Outcome, error) {
	cmd := script.command(3, 2)
	cmd = append(cmd, EpochKey, HoldKey(orderID), DoneKey(orderID), orderID, doneTTLArg)
	reply, err := script.run(ctx, inv.rdb, cmd).Text()
	if err != nil {
		return "", fmt.Errorf("%s order %s: %w", verb, orderID, err)
	}
	if reply == "rebuilding" {
		return "", ErrRebuilding
	}
	return Outcome(reply), nil
}

// Extended says Extend moved the hold's release time.
const Extended Outcome = "extended"

// Extend keeps an order's hold until releaseAfter: a delayed payment is on
// its way. Call it after Postgres recorded the new release time, so a
// rebuild restores the extended hold.
func (inv *Inventory) Extend(ctx context.Context, orderID string, releaseAfter time.Time) (Outcome, error) {
	cmd := extendScript.command(4, 2)
	cmd = append(cmd, EpochKey, HoldKey(orderID), HoldsByReleaseKey, DoneKey(orderID), orderID, releaseAfter.UnixMilli())
	reply, err := extendScript.run(ctx, inv.rdb, cmd).Text()
	if err != nil {
		return "", fmt.Errorf("extend order %s: %w", orderID, err)
	}
	if reply == "rebuilding" {
		return "", ErrRebuilding
	}
	return Outcome(reply), nil
}

// Restocked and AlreadyRestocked say what Restock did.
const (
	Restocked        Outcome = "restocked"
	AlreadyRestocked Outcome = "already"
)

// Restock puts a refunded order's units back on sale, once per order. Call
// it after Postgres added them to stock on hand and marked the order's
// reservations returned: a rebuild that saw that makes this a no-op.
func (inv *Inventory) Restock(ctx context.Context, orderID string, lines []Line) (Outcome, error) {
	lines = mergeLines(lines)
	cmd := restockScript.command(2+len(lines), 1+len(lines))
	cmd = append(cmd, EpochKey, DoneKey(orderID))
	for _, l := range lines {
		cmd = append(cmd, StockKey(l.SKU))
	}
	cmd = append(cmd, doneTTLArg)
	for _, l := range lines {
		cmd = append(cmd, l.Quantity)
	}
	reply, err := restockScript.run(ctx, inv.rdb, cmd).Text()
	if err != nil {
		return "", fmt.Errorf("restock order %s: %w", orderID, err)
	}
	if reply == "rebuilding" {
		return "", ErrRebuilding
	}
	return Outcome(reply), nil
}

// Available reads the units of each SKU free to reserve.
func (inv *Inventory) Available(ctx context.Context, skus ...string) (map[string]int, error) {
	keys := make([]string, len(skus))
	for i, sku := range skus {
		keys[i] = StockKey(sku)
	}
	values, err := inv.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read availability: %w", err)
	}
	available := make(map[string]int, len(skus))
	for i, v := range values {
		s, _ := v.(string)
		var n int
		fmt.Sscan(s, &n)
		available[skus[i]] = n
	}
	return available, nil
}

// mergeLines adds up repeated SKUs (the script wants each once) and orders
// them, so every caller builds the same keys. One line, the usual order,
// is returned as it is.
func mergeLines(lines []Line) []Line {
	if len(lines) < 2 {
		return lines
	}
	sorted := slices.Clone(lines)
	slices.SortFunc(sorted, func(a, b Line) int { return strings.Compare(a.SKU, b.SKU) })
	out := sorted[:0]
	for _, l := range sorted {
		if n := len(out); n > 0 && out[n-1].SKU == l.SKU {
			out[n-1].Quantity += l.Quantity
		} else {
			out = append(out, l)
		}
	}
	return out
}

func shortError(pairs []any, lines []Line) *ShortError {
	wanted := map[string]int{}
	for _, l := range lines {
		wanted[l.SKU] = l.Quantity
	}
	e := &ShortError{}
	for i := 0; i+1 < len(pairs); i += 2 {
		sku, _ := pairs[i].(string)
		available, _ := pairs[i+1].(int64)
		e.Lines = append(e.Lines, Shortage{SKU: sku, Available: max(int(available), 0), Wanted: wanted[sku]})
	}
	return e
}
