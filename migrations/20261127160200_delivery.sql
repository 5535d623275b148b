-- +goose Up
-- A row here means the message's effect is done. Meta retries for 7 days, so
-- rows are kept at least 8.
CREATE TABLE processed_messages (
    wa_message_id text PRIMARY KEY,
    outcome       text NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_messages_processed_at ON processed_messages (processed_at);

-- One row per Stripe event applied; Stripe retries for 3 days.
CREATE TABLE processed_events (
    stripe_event_id text PRIMARY KEY,
    type            text NOT NULL,
    order_id        uuid REFERENCES orders (id),
    outcome         text NOT NULL,
    processed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_events_processed_at ON processed_events (processed_at);

-- Messages the customer must receive, written in the transaction of the
-- state change that causes them and sent after commit.
CREATE TABLE outbox (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id            uuid REFERENCES orders (id),
    kind                text NOT NULL,
    recipient           text NOT NULL,
    payload             jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'sent', 'delivered', 'read', 'failed')),
    attempts            integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    lease_until         timestamptz,
    provider_message_id text UNIQUE,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz
);
-- One message per order and kind: a retried transition cannot queue twice.
CREATE UNIQUE INDEX outbox_one_per_order_kind ON outbox (order_id, kind) WHERE order_id IS NOT NULL;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE outbox;
DROP TABLE processed_events;
DROP TABLE processed_messages;
