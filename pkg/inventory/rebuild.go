package inventory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// rebuildLease bounds how long a crashed rebuild blocks reservations: after
// it, the token expires and the next rebuild proceeds.
const rebuildLease = time.Minute

// RebuildResult says what Rebuild restored.
type RebuildResult struct {
	SKUs  int
	Holds int
	// Superseded: a rebuild that started later finished the job instead.
	Superseded bool
}

type holdSnapshot struct {
	Order        string         `json:"order"`
	ExpiresAt    int64          `json:"expires_at"`
	ReleaseAfter int64          `json:"release_after"`
	Lines        map[string]int `json:"lines"`
}

type snapshot struct {
	Base      map[string]int  `json:"base"`
	Holds     []*holdSnapshot `json:"holds"`
	Pending   []string        `json:"pending"`
	Restocked []string        `json:"restocked"`
	DoneTTL   int64           `json:"done_ttl"`
}

// Rebuild restores availability counters, holds and their indexes from
// Postgres and sets the epoch marker, with the wall clock.
func Rebuild(ctx context.Context, db *pgxpool.Pool, rdb redis.UniversalClient) (RebuildResult, error) {
	return New(rdb, nil).Rebuild(ctx, db)
}

// Rebuild restores availability (on hand − units still held) and holds from
// Postgres. Reservations are refused from before the snapshot is read until
// it is in place, so none can slip between the two; concurrent rebuilds
// leave the latest one's result.
func (inv *Inventory) Rebuild(ctx context.Context, db *pgxpool.Pool) (RebuildResult, error) {
	token := randomToken()
	if _, err := inv.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, RebuildingKey, token, rebuildLease)
		p.Del(ctx, EpochKey)
		return nil
	}); err != nil {
		return RebuildResult{}, fmt.Errorf("rebuild: stop reservations: %w", err)
	}
	snap, err := readSnapshot(ctx, db, inv.now())
	if err != nil {
		return RebuildResult{}, fmt.Errorf("rebuild: read Postgres: %w", err)
	}
	raw, err := json.Marshal(snap)
	if err != nil {
		return RebuildResult{}, fmt.Errorf("rebuild: %w", err)
	}
	epoch := strconv.FormatInt(inv.now().UnixNano(), 10)
	cmd := rebuildScript.command(3, 3)
	cmd = append(cmd, EpochKey, HoldsByReleaseKey, RebuildingKey, token, epoch, raw)
	reply, err := rebuildScript.run(ctx, inv.rdb, cmd).Slice()
	if err != nil {
		return RebuildResult{}, fmt.Errorf("rebuild: write Redis: %w", err)
	}
	if status, _ := reply[0].(string); status == "superseded" {
		return RebuildResult{Superseded: true}, nil
	}
	skus, _ := reply[1].(int64)
	holds, _ := reply[2].(int64)
	return RebuildResult{SKUs: int(skus), Holds: int(holds)}, nil
}

// readSnapshot reads stock and reservations in one repeatable-read
// transaction so they describe the same moment. Holds past release_after
// count as released: nobody can pay for them any more.
func readSnapshot(ctx context.Context, db *pgxpool.Pool, now time.Time) (*snapshot, error) {
	snap := &snapshot{Base: map[string]int{}, Holds: []*holdSnapshot{}, Pending: []string{}, Restocked: []string{},
		DoneTTL: int64(doneTTL.Seconds())}
	err := pgx.BeginTxFunc(ctx, db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// Only 'in stock' variants are for sale: a discontinued or
		// out-of-stock row keeps its stock figure in Postgres but offers
		// nothing. Its holds still count, so releasing them lands on zero.
		rows, err := tx.Query(ctx, `
			SELECT v.sku,
			       CASE WHEN v.availability = 'in stock' THEN v.stock_on_hand ELSE 0 END
			       - COALESCE(sum(r.quantity), 0)
			FROM variants v
			LEFT JOIN reservations r ON r.sku = v.sku AND r.state = 'held' AND r.release_after > $1
			GROUP BY v.sku, v.stock_on_hand, v.availability`, now)
		if err != nil {
			return err
		}
		var sku string
		var available int
		if _, err := pgx.ForEachRow(rows, []any{&sku, &available}, func() error {
			snap.Base[sku] = available
			return nil
		}); err != nil {
			return err
		}
		if err := readHolds(ctx, tx, now, snap); err != nil {
			return err
		}
		// Refunds put back on sale while a restock tombstone could still
		// matter (see restock.lua).
		rows, err = tx.Query(ctx, `SELECT DISTINCT order_id::text FROM reservations
			WHERE state = 'returned' AND updated_at > $1`, now.Add(-doneTTL))
		if err != nil {
			return err
		}
		snap.Restocked, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return snap, err
}

func readHolds(ctx context.Context, tx pgx.Tx, now time.Time, snap *snapshot) error {
	rows, err := tx.Query(ctx, `
		SELECT order_id::text, state, sku, quantity,
		       floor(extract(epoch FROM expires_at) * 1000)::bigint,
		       floor(extract(epoch FROM release_after) * 1000)::bigint
		FROM reservations
		WHERE state = 'pending' OR (state = 'held' AND release_after > $1)
		ORDER BY order_id`, now)
	if err != nil {
		return err
	}
	var order, state, sku string
	var quantity int
	var expiresAt, releaseAfter int64
	var last *holdSnapshot
	_, err = pgx.ForEachRow(rows, []any{&order, &state, &sku, &quantity, &expiresAt, &releaseAfter}, func() error {
		if state == "pending" {
			if n := len(snap.Pending); n == 0 || snap.Pending[n-1] != order {
				snap.Pending = append(snap.Pending, order)
			}
			return nil
		}
		if last == nil || last.Order != order {
			last = &holdSnapshot{Order: order, ExpiresAt: expiresAt, ReleaseAfter: releaseAfter, Lines: map[string]int{}}
			snap.Holds = append(snap.Holds, last)
		}
		last.Lines[sku] = quantity
		return nil
	})
	return err
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
