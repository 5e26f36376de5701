-- Indexes for the console's figures and order search (internal/reports,
-- orders.Search), so the dashboard and the order pages read ranges of an
-- index at a million orders instead of scanning tables.

-- +goose Up
-- Revenue by day, week and month: the paid orders of a period, read from
-- the index alone (paid_at is set once, when an order is paid, and kept
-- when it is refunded or disputed).
CREATE INDEX orders_paid ON orders (paid_at, currency, subtotal_minor, total_minor);
-- Keyset pagination newest first on (created_at, id), with or without a
-- state; they replace the indexes on (created_at) and (status, created_at),
-- which are their prefixes. SQLite would carry the rowid anyway, PostgreSQL
-- needs the id in the index to seek to a page.
CREATE INDEX orders_created_id ON orders (created_at, id);
DROP INDEX orders_created;
CREATE INDEX orders_status_created_id ON orders (status, created_at, id);
DROP INDEX orders_status;
-- A customer's orders and their totals (the customers list).
CREATE INDEX orders_customer_totals ON orders (customer_id, status, currency, total_minor);
-- Credit notes of a period (refunds, subtracted from revenue).
CREATE INDEX invoices_kind_issued ON invoices (kind, issued_at);
-- The customers list, newest first.
CREATE INDEX customers_created_id ON customers (created_at, id);

-- +goose Down
DROP INDEX customers_created_id;
DROP INDEX invoices_kind_issued;
DROP INDEX orders_customer_totals;
CREATE INDEX orders_status ON orders (status, created_at);
DROP INDEX orders_status_created_id;
CREATE INDEX orders_created ON orders (created_at);
DROP INDEX orders_created_id;
DROP INDEX orders_paid;
