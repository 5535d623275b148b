-- +goose NO TRANSACTION
-- Concurrently, so holds keep being taken while the indexes build; if a run
-- stops halfway, running it again finishes the job.

-- +goose Up
-- Cleanup reads every minute the reservations that are alive (pending,
-- held) or were settled lately (released, returned), and rebuild reads the
-- live ones. No index covered them, so each read scanned the whole table,
-- which only grows (every sale leaves a committed row): 75 ms a minute at
-- 200,000 orders, and ten times that at two million. These two partial
-- indexes hold only those rows and make each read a few index lookups.
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_live ON reservations (order_id)
    WHERE state IN ('pending', 'held');
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_recently_settled ON reservations (updated_at)
    WHERE state IN ('released', 'returned');
-- Nothing looks up the held reservations of one SKU or by expiry (rebuild
-- sums them all at once, Redis indexes holds by SKU, cleanup finds lapsed
-- holds through their orders), and each index cost a write on every hold
-- taken and every hold that ends.
DROP INDEX CONCURRENTLY IF EXISTS reservations_held_by_sku;
DROP INDEX CONCURRENTLY IF EXISTS reservations_held_by_expiry;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_held_by_sku ON reservations (sku) WHERE state = 'held';
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_held_by_expiry ON reservations (expires_at) WHERE state = 'held';
DROP INDEX CONCURRENTLY IF EXISTS reservations_recently_settled;
DROP INDEX CONCURRENTLY IF EXISTS reservations_live;
