-- Corrections of issued invoices: a document of its own, numbered in the
-- same gapless sequence, that names the invoice it corrects and carries
-- the corrected details. The invoice itself is never changed.

-- +goose Up
CREATE TABLE invoice_corrections (
    id              @ID@,
    number          TEXT NOT NULL UNIQUE,
    year            INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    invoice_id      BIGINT NOT NULL REFERENCES invoices (id),
    issued_at       @TIME@ NOT NULL,
    reason          TEXT NOT NULL,
    billing_name    TEXT NOT NULL,
    billing_company TEXT NOT NULL DEFAULT '',
    billing_address TEXT NOT NULL,
    billing_country TEXT NOT NULL,
    billing_vat_id  TEXT NOT NULL DEFAULT '',
    UNIQUE (year, seq)
);
CREATE INDEX invoice_corrections_invoice ON invoice_corrections (invoice_id);
CREATE INDEX invoice_corrections_issued ON invoice_corrections (issued_at);

-- +goose Down
DROP TABLE invoice_corrections;
