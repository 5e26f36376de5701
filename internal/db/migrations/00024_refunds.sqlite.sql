-- Refunds, fully or per line, whatever the provider: see
-- 00024_refunds.postgres.sql for the tables. SQLite cannot drop the
-- UNIQUE (order_id, kind) of invoices: the table is rebuilt (new table,
-- copy, drop, rename, indexes again). invoice_corrections points at
-- invoices, so the rebuild runs outside goose's transaction with foreign
-- keys off (SQLite ignores that pragma inside a transaction), in a
-- transaction of its own.

-- +goose NO TRANSACTION
-- +goose Up
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE invoices_new (
    id          @ID@,
    number      TEXT NOT NULL UNIQUE,
    year        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    order_id    BIGINT NOT NULL REFERENCES orders (id),
    issued_at   @TIME@ NOT NULL,
    currency    TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    UNIQUE (year, seq)
);
INSERT INTO invoices_new (id, number, year, seq, kind, order_id, issued_at, currency, total_minor)
    SELECT id, number, year, seq, kind, order_id, issued_at, currency, total_minor FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_new RENAME TO invoices;
CREATE INDEX invoices_issued ON invoices (issued_at);
CREATE UNIQUE INDEX invoices_one_invoice ON invoices (order_id) WHERE kind = 'invoice';
CREATE INDEX invoices_order ON invoices (order_id);

-- state: pending while the processor is asked (the lines are reserved, so
-- a second refund cannot return them too), done once it has returned the
-- money (or the refund was recorded) and the credit note is issued.
-- provider_ref is the processor's refund (Stripe's re_...), '' for refunds
-- recorded by hand; cause says who did it, as order_events.cause does
-- ("staff:3", "stripe:evt_..."); reason is what they gave.
CREATE TABLE refunds (
    id             @ID@,
    order_id       BIGINT NOT NULL REFERENCES orders (id),
    credit_note_id BIGINT UNIQUE REFERENCES invoices (id),
    state          TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    currency       TEXT NOT NULL CHECK (length(currency) = 3),
    net_minor      BIGINT NOT NULL CHECK (net_minor >= 0),
    tax_minor      BIGINT NOT NULL CHECK (tax_minor >= 0),
    gross_minor    BIGINT NOT NULL CHECK (gross_minor > 0 AND gross_minor = net_minor + tax_minor),
    provider       TEXT NOT NULL,
    provider_ref   TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL,
    cause          TEXT NOT NULL,
    created_at     @TIME@ NOT NULL,
    CHECK (state = 'pending' OR credit_note_id IS NOT NULL)
);
CREATE INDEX refunds_order ON refunds (order_id, id);
CREATE INDEX refunds_created ON refunds (created_at);
CREATE UNIQUE INDEX refunds_provider_ref ON refunds (provider, provider_ref) WHERE provider_ref <> '';

CREATE TABLE refund_lines (
    id            @ID@,
    refund_id     BIGINT NOT NULL REFERENCES refunds (id) ON DELETE CASCADE,
    order_line_id BIGINT NOT NULL REFERENCES order_lines (id),
    quantity      INTEGER NOT NULL CHECK (quantity > 0),
    net_minor     BIGINT NOT NULL CHECK (net_minor >= 0),
    tax_minor     BIGINT NOT NULL CHECK (tax_minor >= 0),
    gross_minor   BIGINT NOT NULL CHECK (gross_minor = net_minor + tax_minor),
    UNIQUE (refund_id, order_line_id)
);
CREATE INDEX refund_lines_order_line ON refund_lines (order_line_id);
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
DROP TABLE refund_lines;
DROP TABLE refunds;
