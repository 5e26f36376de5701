-- Refunds, fully or per line, whatever the provider: each refund is a row
-- of refunds with the order lines (and quantities) it returned in
-- refund_lines, and issues a credit note of its own. An order therefore
-- has one invoice and any number of credit notes: the UNIQUE (order_id,
-- kind) of invoices becomes a unique index on the invoice alone.
-- PostgreSQL changes the constraint in place; SQLite rebuilds the table
-- (00024_refunds.sqlite.sql).

-- +goose Up
ALTER TABLE invoices DROP CONSTRAINT invoices_order_id_kind_key;
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

-- +goose Down
DROP TABLE refund_lines;
DROP TABLE refunds;
DROP INDEX invoices_order;
DROP INDEX invoices_one_invoice;
ALTER TABLE invoices ADD CONSTRAINT invoices_order_id_kind_key UNIQUE (order_id, kind);
