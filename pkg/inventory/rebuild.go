package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/scripts"
)

var rebuildScript = redis.NewScript(scripts.Rebuild)

// RebuildResult says what Rebuild restored.
type RebuildResult struct {
	SKUs  int
	Holds int
}

type holdSnapshot struct {
	Order        string         `json:"order"`
	ExpiresAt    int64          `json:"expires_at"`
	ReleaseAfter int64          `json:"release_after"`
	Lines        map[string]int `json:"lines"`
}

type snapshot struct {
	Stock map[string]int  `json:"stock"`
	Holds []*holdSnapshot `json:"holds"`
}

// Rebuild restores availability counters, holds and their indexes from
// Postgres (available = on hand − quantities still held) and sets the epoch
// marker, in one script so no reservation interleaves with it.
func Rebuild(ctx context.Context, db *pgxpool.Pool, rdb redis.UniversalClient) (RebuildResult, error) {
	snap, err := readSnapshot(ctx, db)
	if err != nil {
		return RebuildResult{}, fmt.Errorf("rebuild: read Postgres: %w", err)
	}
	raw, err := json.Marshal(snap)
	if err != nil {
		return RebuildResult{}, fmt.Errorf("rebuild: %w", err)
	}
	epoch := strconv.FormatInt(time.Now().UnixNano(), 10)
	counts, err := rebuildScript.Run(ctx, rdb, []string{EpochKey, HoldsByReleaseKey}, epoch, raw).Int64Slice()
	if err != nil {
		return RebuildResult{}, fmt.Errorf("rebuild: write Redis: %w", err)
	}
	return RebuildResult{SKUs: int(counts[0]), Holds: int(counts[1])}, nil
}

// readSnapshot reads stock and holds in one repeatable-read transaction so
// they describe the same moment.
func readSnapshot(ctx context.Context, db *pgxpool.Pool) (*snapshot, error) {
	snap := &snapshot{Stock: map[string]int{}, Holds: []*holdSnapshot{}}
	err := pgx.BeginTxFunc(ctx, db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// Only 'in stock' variants are for sale: a discontinued or out-of-stock
		// row keeps its stock figure in Postgres but offers nothing.
		rows, err := tx.Query(ctx, `
			SELECT v.sku,
			       CASE WHEN v.availability = 'in stock'
			            THEN v.stock_on_hand - COALESCE(sum(r.quantity), 0) ELSE 0 END
			FROM variants v
			LEFT JOIN reservations r ON r.sku = v.sku AND r.state = 'held'
			GROUP BY v.sku, v.stock_on_hand, v.availability`)
		if err != nil {
			return err
		}
		var sku string
		var available int
		if _, err := pgx.ForEachRow(rows, []any{&sku, &available}, func() error {
			snap.Stock[sku] = max(available, 0)
			return nil
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `
			SELECT order_id::text, sku, quantity,
			       (extract(epoch FROM expires_at) * 1000)::bigint,
			       (extract(epoch FROM release_after) * 1000)::bigint
			FROM reservations WHERE state = 'held' ORDER BY order_id`)
		if err != nil {
			return err
		}
		var order string
		var quantity int
		var expiresAt, releaseAfter int64
		var last *holdSnapshot
		_, err = pgx.ForEachRow(rows, []any{&order, &sku, &quantity, &expiresAt, &releaseAfter}, func() error {
			if last == nil || last.Order != order {
				last = &holdSnapshot{Order: order, ExpiresAt: expiresAt, ReleaseAfter: releaseAfter, Lines: map[string]int{}}
				snap.Holds = append(snap.Holds, last)
			}
			last.Lines[sku] = quantity
			return nil
		})
		return err
	})
	return snap, err
}
