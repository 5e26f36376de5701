-- +goose Up
CREATE TABLE test_gadgets (
    id   @ID@,
    name TEXT NOT NULL,
    qty  INTEGER NOT NULL CONSTRAINT test_gadgets_qty CHECK (qty > 0)
);
CREATE INDEX test_gadgets_name ON test_gadgets (name);
INSERT INTO test_gadgets (name, qty) VALUES ('kept', 3);

-- +goose Down
DROP TABLE test_gadgets;
