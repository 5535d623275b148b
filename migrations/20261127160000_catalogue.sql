-- +goose Up
-- A product is what the customer sees; variants are what is sold and stocked.
-- Rows of the Meta catalogue feed sharing an item_group_id are one product.
CREATE TABLE products (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    item_group_id text NOT NULL UNIQUE,
    title         text NOT NULL CHECK (title <> ''),
    description   text NOT NULL DEFAULT '',
    brand         text NOT NULL DEFAULT '',
    link          text NOT NULL DEFAULT '',
    image_link    text NOT NULL DEFAULT '',
    -- Money is integer minor units of an ISO 4217 currency, never floats.
    price_minor   bigint NOT NULL CHECK (price_minor >= 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    metadata      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE variants (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id        uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    -- The feed's id: the SKU, and WhatsApp's product_retailer_id.
    sku               text NOT NULL UNIQUE CHECK (sku <> '' AND length(sku) <= 100),
    title             text NOT NULL CHECK (title <> ''),
    size              text NOT NULL DEFAULT '',
    color             text NOT NULL DEFAULT '',
    condition         text NOT NULL DEFAULT 'new',
    -- in stock | out of stock | preorder | available for order | discontinued
    availability      text NOT NULL DEFAULT 'in stock',
    -- The variant's price is the product's price plus this delta.
    price_delta_minor bigint NOT NULL DEFAULT 0,
    -- Never oversell: the paid transition decrements this under the CHECK.
    stock_on_hand     integer NOT NULL CHECK (stock_on_hand >= 0),
    metadata          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX variants_product_id ON variants (product_id);

-- +goose Down
DROP TABLE variants;
DROP TABLE products;
