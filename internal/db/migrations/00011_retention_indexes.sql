-- Indexes on the dates retention counts from, so that the hourly purge
-- finds expired rows by a range instead of scanning tables.

-- +goose Up
CREATE INDEX outbox_created ON outbox (created_at);
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX order_events_at ON order_events (at);
CREATE INDEX payment_events_received ON payment_events (received_at);
CREATE INDEX invoices_issued ON invoices (issued_at);
CREATE INDEX staff_tokens_created ON staff_tokens (created_at);
CREATE INDEX staff_sessions_created ON staff_sessions (created_at);
CREATE INDEX privacy_requests_completed ON privacy_requests (completed_at);

-- +goose Down
DROP INDEX privacy_requests_completed;
DROP INDEX staff_sessions_created;
DROP INDEX staff_tokens_created;
DROP INDEX invoices_issued;
DROP INDEX payment_events_received;
DROP INDEX order_events_at;
DROP INDEX orders_created;
DROP INDEX outbox_created;
