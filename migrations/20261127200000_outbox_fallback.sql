-- +goose Up
-- A template to send instead when WhatsApp refuses the message because the
-- customer's 24-hour window has closed (Graph error 131047): only templates
-- reach a customer outside it.
ALTER TABLE outbox ADD COLUMN fallback jsonb CHECK (fallback IS NULL OR jsonb_typeof(fallback) = 'object');

-- +goose Down
ALTER TABLE outbox DROP COLUMN fallback;
