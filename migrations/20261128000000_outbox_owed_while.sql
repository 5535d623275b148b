-- +goose Up
-- Some messages are owed only while their order has a status: a payment
-- link while it is pending payment, a confirmation while it is paid. A send
-- that failed waits for its retry, and by then the order may have expired,
-- been paid through the link the shop's API returned, or been refunded;
-- the retry must then not send "Pay now" or "Thank you for your order".
-- The row keeps the status it is owed under; the sender checks it when it
-- takes the row, and marks a row no longer owed 'withdrawn' (not 'failed':
-- nothing went wrong). NULL: owed whatever happens. Adding a nullable
-- column rewrites nothing; the new check is validated without blocking
-- writes.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS owed_while text;
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed', 'withdrawn')) NOT VALID;
ALTER TABLE outbox VALIDATE CONSTRAINT outbox_status_check;

-- +goose Down
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')) NOT VALID;
ALTER TABLE outbox DROP COLUMN IF EXISTS owed_while;
