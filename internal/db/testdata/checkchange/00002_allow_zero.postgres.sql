-- PostgreSQL alters the constraint in place.
-- +goose Up
ALTER TABLE test_gadgets DROP CONSTRAINT test_gadgets_qty,
    ADD CONSTRAINT test_gadgets_qty CHECK (qty >= 0);

-- +goose Down
SELECT 1;
