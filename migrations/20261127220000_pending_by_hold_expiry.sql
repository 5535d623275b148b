-- +goose NO TRANSACTION
-- Concurrently, so a shop's orders keep flowing while the index builds; if
-- a run stops halfway, running it again finishes the job.

-- +goose Up
-- Two partial indexes had the same predicate (status = 'pending_payment'):
-- this one, for cleanup's scan by hold expiry, and the unique one on
-- customer_id that finds a customer's unpaid order. When the statistics
-- lag behind a rush of new orders (a fresh shop, a flash sale between two
-- autovacuum analyzes), the planner believed there were almost no unpaid
-- orders and read all of them through this index on every new order,
-- filtering by customer. The extra condition is always true (the column is
-- NOT NULL) and every cleanup query compares hold_expires_at, which implies
-- it; a lookup by customer does not, so it can only use the unique index.
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_pending_by_hold_expiry_new ON orders (hold_expires_at)
    WHERE status = 'pending_payment' AND hold_expires_at IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS orders_pending_by_hold_expiry;
ALTER INDEX orders_pending_by_hold_expiry_new RENAME TO orders_pending_by_hold_expiry;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_pending_by_hold_expiry_old ON orders (hold_expires_at)
    WHERE status = 'pending_payment';
DROP INDEX CONCURRENTLY IF EXISTS orders_pending_by_hold_expiry;
ALTER INDEX orders_pending_by_hold_expiry_old RENAME TO orders_pending_by_hold_expiry;
