-- Renewals: an order line may renew a license (instead of issuing one) and
-- says the service period it paid for; a subscription at the payment
-- processor renews the licenses of the order that started it; a payment
-- event keeps the normalised event it carried, so one that arrived before
-- the state it applies to can be applied when that state comes.

-- +goose Up
ALTER TABLE order_lines ADD COLUMN renews_license_id BIGINT REFERENCES licenses (id) ON DELETE SET NULL;
ALTER TABLE order_lines ADD COLUMN period_start @TIME@;
ALTER TABLE order_lines ADD COLUMN period_end @TIME@;
CREATE INDEX order_lines_renews ON order_lines (renews_license_id);

-- The processor's invoice a renewal order records (Stripe's in_...): one
-- renewal order per paid invoice.
ALTER TABLE orders ADD COLUMN processor_invoice TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX orders_processor_invoice ON orders (processor_invoice) WHERE processor_invoice <> '';

ALTER TABLE payment_events ADD COLUMN data TEXT NOT NULL DEFAULT '';

CREATE TABLE subscriptions (
    id                   @ID@,
    order_id             BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    provider             TEXT NOT NULL,
    processor_ref        TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'past_due', 'cancelled')),
    cancel_at_period_end @BOOL@ NOT NULL DEFAULT FALSE,
    current_period_end   @TIME@,
    state_at             @TIME@ NOT NULL,
    created_at           @TIME@ NOT NULL,
    updated_at           @TIME@ NOT NULL
);
CREATE UNIQUE INDEX subscriptions_ref ON subscriptions (provider, processor_ref) WHERE processor_ref <> '';
CREATE INDEX subscriptions_order ON subscriptions (order_id);

-- +goose Down
DROP TABLE subscriptions;
ALTER TABLE payment_events DROP COLUMN data;
DROP INDEX orders_processor_invoice;
ALTER TABLE orders DROP COLUMN processor_invoice;
DROP INDEX order_lines_renews;
ALTER TABLE order_lines DROP COLUMN period_end;
ALTER TABLE order_lines DROP COLUMN period_start;
ALTER TABLE order_lines DROP COLUMN renews_license_id;
