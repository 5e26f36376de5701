-- Tax on every order line and the treatment the order was taxed under, so
-- invoices, credit notes and the sales report show net, rate, tax and
-- gross from the stored record, never recomputed with today's settings.

-- +goose Up
-- net_minor + tax_minor is the line's gross; tax_rate_bp is the rate in
-- basis points (1900 = 19 %). Lines placed before tax was computed had no
-- tax of their own: their net is what they cost.
ALTER TABLE order_lines ADD COLUMN net_minor BIGINT NOT NULL DEFAULT 0 CHECK (net_minor >= 0);
ALTER TABLE order_lines ADD COLUMN tax_minor BIGINT NOT NULL DEFAULT 0 CHECK (tax_minor >= 0);
ALTER TABLE order_lines ADD COLUMN tax_rate_bp INTEGER NOT NULL DEFAULT 0 CHECK (tax_rate_bp >= 0 AND tax_rate_bp <= 10000);
UPDATE order_lines SET net_minor = unit_minor * quantity;

-- tax_treatment: '' (placed before tax was computed), domestic (the
-- seller's country's rate), reverse_charge (an EU business buyer with a
-- valid VAT number: no tax, the statement on the invoice), eu_consumer
-- (the buyer's EU country's rate), export (outside the EU: no tax), or
-- processor (the payment processor computed it, as Stripe Tax does).
-- tax_country is the country whose rate applied; seller_vat_id and
-- prices_include_tax are the vendor's settings when the order was placed;
-- vat_check is the buyer's VAT number check as JSON (format, and VIES
-- when configured: valid, name, address, request id, time).
ALTER TABLE orders ADD COLUMN tax_treatment TEXT NOT NULL DEFAULT ''
    CHECK (tax_treatment IN ('', 'domestic', 'reverse_charge', 'eu_consumer', 'export', 'processor'));
ALTER TABLE orders ADD COLUMN tax_country TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN seller_vat_id TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN prices_include_tax @BOOL@ NOT NULL DEFAULT FALSE;
ALTER TABLE orders ADD COLUMN vat_check TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE orders DROP COLUMN vat_check;
ALTER TABLE orders DROP COLUMN prices_include_tax;
ALTER TABLE orders DROP COLUMN seller_vat_id;
ALTER TABLE orders DROP COLUMN tax_country;
ALTER TABLE orders DROP COLUMN tax_treatment;
ALTER TABLE order_lines DROP COLUMN tax_rate_bp;
ALTER TABLE order_lines DROP COLUMN tax_minor;
ALTER TABLE order_lines DROP COLUMN net_minor;
