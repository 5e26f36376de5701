-- Bulk mail carries the address that ends the recipient's subscription,
-- for the List-Unsubscribe header the worker adds when it sends.

-- +goose Up
ALTER TABLE outbox ADD COLUMN unsubscribe_url TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN unsubscribe_url;
