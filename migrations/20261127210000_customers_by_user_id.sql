-- +goose Up
-- A WhatsApp user whose phone number Meta starts or stops sharing has a
-- customer row under each address; their business-scoped user id ties the
-- rows together when the shop looks for their unpaid order.
CREATE INDEX customers_user_id ON customers (user_id) WHERE user_id IS NOT NULL;

-- +goose Down
DROP INDEX customers_user_id;
