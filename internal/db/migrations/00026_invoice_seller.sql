-- What an issued document says of the seller, kept with it: the vendor's
-- names, address, country and contact, and for an invoice paid by bank
-- transfer the bank details, as they were when it was issued. A document
-- is generated from its stored record only, so changing the settings
-- later never changes an issued invoice. JSON; '' for documents issued
-- before it was kept (they show today's settings).

-- +goose Up
ALTER TABLE invoices ADD COLUMN seller TEXT NOT NULL DEFAULT '';
ALTER TABLE invoice_corrections ADD COLUMN seller TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE invoice_corrections DROP COLUMN seller;
ALTER TABLE invoices DROP COLUMN seller;
