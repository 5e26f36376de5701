-- Indexes that let access exports and erasure find one person's rows
-- without scanning whole tables (see bench/privacy).

-- +goose Up
CREATE INDEX outbox_to_addr ON outbox (to_addr);
CREATE INDEX orders_billing_email ON orders (billing_email);
CREATE INDEX payment_events_order ON payment_events (order_id);

-- +goose Down
DROP INDEX payment_events_order;
DROP INDEX orders_billing_email;
DROP INDEX outbox_to_addr;
