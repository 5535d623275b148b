-- +goose Up
CREATE TABLE customers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    wa_id        text NOT NULL UNIQUE CHECK (wa_id <> ''),
    -- The business-scoped user id (BSUID) Meta sends beside wa_id.
    user_id      text,
    profile_name text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id           uuid NOT NULL REFERENCES customers (id),
    -- One order per inbound request: a WhatsApp message id or an
    -- Idempotency-Key header. A retried request finds its order here.
    request_key           text NOT NULL UNIQUE,
    status                text NOT NULL DEFAULT 'pending_payment' CHECK (status IN
        ('pending_payment', 'processing', 'paid', 'expired', 'cancelled', 'payment_failed', 'refunded')),
    fulfillment_status    text NOT NULL DEFAULT 'unfulfilled' CHECK (fulfillment_status IN
        ('unfulfilled', 'shipped', 'delivered')),
    -- Lines with the prices copied at order time: [{sku, title, quantity, unit_price_minor}].
    items                 jsonb NOT NULL CHECK (jsonb_typeof(items) = 'array' AND jsonb_array_length(items) > 0),
    currency              text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total_minor           bigint NOT NULL CHECK (total_minor >= 0),
    -- The hold's end (reserved_until) and when nobody can pay any more
    -- (the Checkout session's end plus clock skew), fixed at creation so a
    -- retried session request is identical.
    hold_expires_at       timestamptz NOT NULL,
    release_after         timestamptz NOT NULL CHECK (release_after >= hold_expires_at),
    checkout_session_id   text UNIQUE,
    checkout_url          text,
    checkout_expires_at   timestamptz,
    payment_intent_id     text UNIQUE,
    -- Set in the transaction that decrements stock_on_hand for this order, so
    -- a refund knows whether stock has to come back.
    stock_committed       boolean NOT NULL DEFAULT false,
    refunded_minor        bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= total_minor),
    metadata              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    paid_at               timestamptz
);
-- One unpaid order per customer: a new order cancels the previous one first.
CREATE UNIQUE INDEX orders_one_unpaid_per_customer ON orders (customer_id) WHERE status = 'pending_payment';
CREATE INDEX orders_pending_by_hold_expiry ON orders (hold_expires_at) WHERE status = 'pending_payment';

-- The durable side of a stock hold; Redis holds the fast copy and is rebuilt
-- from the rows still 'held'.
CREATE TABLE reservations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id      uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    sku           text NOT NULL REFERENCES variants (sku),
    quantity      integer NOT NULL CHECK (quantity > 0),
    -- expires_at: how long the shop means to hold. release_after: when nobody
    -- can pay any more (the Checkout session's end plus clock skew).
    expires_at    timestamptz NOT NULL,
    release_after timestamptz NOT NULL CHECK (release_after >= expires_at),
    -- pending: written before Redis confirmed the hold, so a rebuild must not
    -- restore it; held: Redis holds it; committed: sold; released: given
    -- back unsold; returned: sold, then refunded and put back on the shelf.
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'held', 'committed', 'released', 'returned')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, sku)
);
CREATE INDEX reservations_held_by_sku ON reservations (sku) WHERE state = 'held';
CREATE INDEX reservations_held_by_expiry ON reservations (expires_at) WHERE state = 'held';

-- +goose Down
DROP TABLE reservations;
DROP TABLE orders;
DROP TABLE customers;
