package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OrphansKey remembers when reconcile first saw each hold Postgres does not
// know, in milliseconds: the grace period runs from there.
const OrphansKey = "{inv}:orphans"

const (
	// DefaultOrphanGrace leaves a hold Postgres does not know alone for
	// longer than any request that takes one (60 s at most) needs to record
	// it or commit it.
	DefaultOrphanGrace = 5 * time.Minute
	// paymentWindow is how long after its reservation was released an order
	// can still be mid-payment: a session lives 24 h and Stripe retries its
	// event for 3 days.
	paymentWindow = 4 * 24 * time.Hour
)

// ReconcileOptions tune Reconcile; the zero value is the default.
type ReconcileOptions struct {
	OrphanGrace time.Duration // DefaultOrphanGrace when zero
	DryRun      bool          // count what would change, change nothing
}

// ReconcileResult says what Reconcile found and, unless it was a dry run,
// repaired.
type ReconcileResult struct {
	Rebuilt        bool `json:"rebuilt"`         // the epoch was missing: restored from Postgres
	NeedsRebuild   bool `json:"needs_rebuild"`   // dry run: the epoch is missing
	RebuildRunning bool `json:"rebuild_running"` // another rebuild holds the lease
	Superseded     bool `json:"superseded"`      // a rebuild ran meanwhile: nothing checked
	SKUs           int  `json:"skus"`
	Drifted        int  `json:"drifted"`     // SKUs whose availability was wrong
	DriftUnits     int  `json:"drift_units"` // by how many units in all
	Holds          int  `json:"holds"`       // holds Redis had and keeps
	Restored       int  `json:"restored"`    // holds Postgres has and Redis had lost
	Phantoms       int  `json:"phantoms"`    // holds of sold orders, dropped without giving units back
	OrphansWaiting int  `json:"orphans_waiting"`
	OrphansDropped int  `json:"orphans_dropped"` // unknown to Postgres past the grace period: units back
	Restocked      int  `json:"restocked"`       // refunds marked so a late Restock adds nothing
	Extended       int  `json:"extended"`        // holds Postgres keeps longer: Redis's release time moved to it
}

type reconcileOrder struct {
	State        string         `json:"state"`
	Unsettled    bool           `json:"unsettled"`
	ExpiresAt    int64          `json:"expires_at"`
	ReleaseAfter int64          `json:"release_after"`
	Lines        map[string]int `json:"lines"`
}

type reconcileSnapshot struct {
	Now       int64                      `json:"now"`
	Grace     int64                      `json:"grace"`
	DoneTTL   int64                      `json:"done_ttl"`
	Base      map[string]int             `json:"base"`
	Listed    []string                   `json:"listed"`
	Orders    map[string]*reconcileOrder `json:"orders"`
	Restocked []string                   `json:"restocked"`
}

// Reconcile makes Redis agree with Postgres. With the epoch missing (Redis
// restarted empty) it rebuilds; otherwise it recomputes availability as on
// hand for sale less the holds Redis keeps, and repairs holds: it restores
// those Redis lost, drops those of sold orders without giving units back,
// and gives back those Postgres does not know once they outlive the grace
// period (a Create may be between its Postgres insert and Redis). The repair
// is one Lua script, atomic against reservations.
func (inv *Inventory) Reconcile(ctx context.Context, db *pgxpool.Pool, opts ReconcileOptions) (ReconcileResult, error) {
	epoch, err := inv.Epoch(ctx)
	if err != nil || epoch == "" {
		return inv.rebuildLost(ctx, db, opts, err)
	}
	// Holds seen before Postgres is read were written to Postgres before
	// they were taken, so the snapshot knows them unless they are orphans.
	listed, err := inv.rdb.ZRange(ctx, HoldsByReleaseKey, 0, -1).Result()
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("reconcile: list holds: %w", err)
	}
	snap, err := readReconcile(ctx, db, inv.now(), listed, cmpOr(opts.OrphanGrace, DefaultOrphanGrace))
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("reconcile: read Postgres: %w", err)
	}
	raw, err := json.Marshal(snap)
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("reconcile: %w", err)
	}
	apply := map[bool]string{true: "0", false: "1"}[opts.DryRun]
	cmd := reconcileScript.command(3, 3)
	cmd = append(cmd, EpochKey, HoldsByReleaseKey, OrphansKey, epoch, raw, apply)
	reply, err := reconcileScript.run(ctx, inv.rdb, cmd).Slice()
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("reconcile: %w", err)
	}
	switch status, _ := reply[0].(string); status {
	case "rebuilding", "superseded":
		// A rebuild started or finished meanwhile: it did the work.
		return ReconcileResult{Superseded: true}, nil
	case "ok":
		if len(reply) == 11 {
			break
		}
		fallthrough
	default:
		return ReconcileResult{}, fmt.Errorf("reconcile: unexpected reply %v", reply)
	}
	n := make([]int, 10)
	for i, v := range reply[1:] {
		c, _ := v.(int64)
		n[i] = int(c)
	}
	return ReconcileResult{SKUs: n[0], Drifted: n[1], DriftUnits: n[2], Holds: n[3], Restored: n[4],
		Phantoms: n[5], OrphansWaiting: n[6], OrphansDropped: n[7], Restocked: n[8], Extended: n[9]}, nil
}

// rebuildLost rebuilds Redis when its epoch is gone, unless another rebuild
// holds the lease: two cleanups at once rebuild once. (Between the check and
// Rebuild's own lease a second rebuild can still start; it supersedes the
// first, which costs time, not correctness.)
func (inv *Inventory) rebuildLost(ctx context.Context, db *pgxpool.Pool, opts ReconcileOptions, err error) (ReconcileResult, error) {
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("reconcile: %w", err)
	}
	if opts.DryRun {
		return ReconcileResult{NeedsRebuild: true}, nil
	}
	running, err := inv.rdb.Exists(ctx, RebuildingKey).Result()
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("reconcile: %w", err)
	}
	if running == 1 {
		return ReconcileResult{RebuildRunning: true}, nil
	}
	res, err := inv.Rebuild(ctx, db)
	return ReconcileResult{Rebuilt: !res.Superseded, Superseded: res.Superseded, SKUs: res.SKUs, Holds: res.Holds}, err
}

// readReconcile reads, in one repeatable-read snapshot, stock on hand for
// sale and the reservations of every order that may hold or have taken
// units: those pending or held, those Redis listed, and those released
// recently enough to be mid-payment (see paymentWindow).
func readReconcile(ctx context.Context, db *pgxpool.Pool, now time.Time, listed []string, grace time.Duration) (*reconcileSnapshot, error) {
	snap := &reconcileSnapshot{Now: now.UnixMilli(), Grace: grace.Milliseconds(), DoneTTL: int64(doneTTL.Seconds()),
		Base: map[string]int{}, Listed: listed, Orders: map[string]*reconcileOrder{}, Restocked: []string{}}
	if snap.Listed == nil {
		snap.Listed = []string{}
	}
	var ids []string // as text: the pool's exec mode cannot encode []uuid.UUID
	for _, id := range listed {
		if _, err := uuid.Parse(id); err == nil {
			ids = append(ids, id)
		}
	}
	err := pgx.BeginTxFunc(ctx, db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT sku, CASE WHEN availability = 'in stock' THEN stock_on_hand ELSE 0 END FROM variants`)
		if err != nil {
			return err
		}
		var sku string
		var onHand int
		if _, err := pgx.ForEachRow(rows, []any{&sku, &onHand}, func() error { snap.Base[sku] = onHand; return nil }); err != nil {
			return err
		}
		if err := readOrders(ctx, tx, ids, snap); err != nil {
			return err
		}
		// Refunds put back on hand while a restock tombstone still matters.
		rows, err = tx.Query(ctx, `SELECT DISTINCT order_id::text FROM reservations
			WHERE state = 'returned' AND updated_at > now() - $1 * interval '1 second'`, int64(doneTTL.Seconds()))
		if err != nil {
			return err
		}
		snap.Restocked, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return snap, err
}

// statePriority decides an order's state from its rows (one per SKU, which
// change together): any row still held or pending means the hold is alive.
var statePriority = map[string]int{"released": 0, "returned": 1, "committed": 2, "held": 3, "pending": 4}

func readOrders(ctx context.Context, tx pgx.Tx, ids []string, snap *reconcileSnapshot) error {
	rows, err := tx.Query(ctx, `
		SELECT r.order_id::text, r.state, r.sku, r.quantity,
		       floor(extract(epoch FROM r.expires_at) * 1000)::bigint, floor(extract(epoch FROM r.release_after) * 1000)::bigint,
		       NOT o.stock_committed AND o.status <> 'refunded'
		FROM reservations r JOIN orders o ON o.id = r.order_id
		WHERE r.state IN ('pending', 'held') OR r.order_id = ANY($1::uuid[])
		   OR (r.state = 'released' AND r.updated_at > now() - $2 * interval '1 second'
		       AND NOT o.stock_committed AND o.status <> 'refunded')`, ids, int64(paymentWindow.Seconds()))
	if err != nil {
		return err
	}
	var id, state, sku string
	var row reconcileOrder
	var quantity int
	_, err = pgx.ForEachRow(rows, []any{&id, &state, &sku, &quantity, &row.ExpiresAt, &row.ReleaseAfter, &row.Unsettled}, func() error {
		o := snap.Orders[id]
		if o == nil {
			o = &reconcileOrder{State: state, Unsettled: row.Unsettled, ExpiresAt: row.ExpiresAt,
				ReleaseAfter: row.ReleaseAfter, Lines: map[string]int{}}
			snap.Orders[id] = o
		}
		if statePriority[state] > statePriority[o.State] {
			o.State = state
		}
		o.Lines[sku] = quantity
		return nil
	})
	return err
}

func cmpOr(d, fallback time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return fallback
}
