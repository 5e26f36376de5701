-- Orders, their lines and state history, processed payment events, and
-- invoices numbered without gaps.

-- +goose Up
CREATE TABLE orders (
    id                 @ID@,
    number             TEXT NOT NULL UNIQUE,
    customer_id        BIGINT,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'refunded', 'disputed', 'cancelled')),
    provider           TEXT NOT NULL,
    currency           TEXT NOT NULL CHECK (length(currency) = 3),
    subtotal_minor     BIGINT NOT NULL CHECK (subtotal_minor >= 0),
    tax_minor          BIGINT NOT NULL DEFAULT 0,
    total_minor        BIGINT NOT NULL CHECK (total_minor >= 0),
    processor_session  TEXT UNIQUE,
    processor_payment  TEXT NOT NULL DEFAULT '',
    processor_customer TEXT NOT NULL DEFAULT '',
    billing_email      TEXT NOT NULL,
    billing_name       TEXT NOT NULL DEFAULT '',
    billing_company    TEXT NOT NULL DEFAULT '',
    billing_address    TEXT NOT NULL DEFAULT '',
    billing_country    TEXT NOT NULL DEFAULT '',
    billing_vat_id     TEXT NOT NULL DEFAULT '',
    created_at         @TIME@ NOT NULL,
    updated_at         @TIME@ NOT NULL,
    paid_at            @TIME@
);
CREATE INDEX orders_customer ON orders (customer_id, created_at);
CREATE INDEX orders_status ON orders (status, created_at);

CREATE TABLE order_lines (
    id          @ID@,
    order_id    BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    price_id    BIGINT,
    description TEXT NOT NULL,
    billing     TEXT NOT NULL CHECK (billing IN ('one_time', 'yearly')),
    unit_minor  BIGINT NOT NULL CHECK (unit_minor >= 0),
    quantity    INTEGER NOT NULL CHECK (quantity > 0)
);
CREATE INDEX order_lines_order ON order_lines (order_id);

CREATE TABLE order_events (
    id          @ID@,
    order_id    BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    at          @TIME@ NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    cause       TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_events_order ON order_events (order_id, id);

CREATE TABLE payment_events (
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    type        TEXT NOT NULL,
    received_at @TIME@ NOT NULL,
    order_id    BIGINT,
    outcome     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (provider, event_id)
);

CREATE TABLE invoice_counters (
    year     INTEGER PRIMARY KEY,
    last_seq INTEGER NOT NULL
);

CREATE TABLE invoices (
    id          @ID@,
    number      TEXT NOT NULL UNIQUE,
    year        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    order_id    BIGINT NOT NULL REFERENCES orders (id),
    issued_at   @TIME@ NOT NULL,
    currency    TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    UNIQUE (year, seq),
    UNIQUE (order_id, kind)
);

-- +goose Down
DROP TABLE invoices;
DROP TABLE invoice_counters;
DROP TABLE payment_events;
DROP TABLE order_events;
DROP TABLE order_lines;
DROP TABLE orders;
