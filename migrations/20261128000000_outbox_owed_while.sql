-- +goose Up
-- Some messages are owed only while their order has a status: a payment
-- link while it is pending payment, a confirmation while it is paid. A send
-- that failed waits for its retry, and by then the order may have expired,
-- been paid through the link the shop's API returned, or been refunded;
-- the retry must then not send "Pay now" or "Thank you for your order".
-- The row keeps the status it is owed under; the sender checks it when it
-- takes the row. NULL: owed whatever happens. Adding a nullable column
-- rewrites nothing.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS owed_while text;

-- +goose Down
ALTER TABLE outbox DROP COLUMN IF EXISTS owed_while;
