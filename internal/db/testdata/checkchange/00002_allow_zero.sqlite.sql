-- SQLite cannot alter a constraint: rebuild the table with the new one,
-- copy the rows, replace the old table and recreate its indexes.
-- +goose Up
CREATE TABLE test_gadgets_new (
    id   @ID@,
    name TEXT NOT NULL,
    qty  INTEGER NOT NULL CONSTRAINT test_gadgets_qty CHECK (qty >= 0)
);
INSERT INTO test_gadgets_new (id, name, qty) SELECT id, name, qty FROM test_gadgets;
DROP TABLE test_gadgets;
ALTER TABLE test_gadgets_new RENAME TO test_gadgets;
CREATE INDEX test_gadgets_name ON test_gadgets (name);

-- +goose Down
SELECT 1;
