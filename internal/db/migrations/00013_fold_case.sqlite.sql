-- fold_case(text): Unicode lower-casing for case-insensitive search, the
-- same on both databases (internal/db/dialect.go, FoldCase). SQLite cannot
-- define functions in SQL; Storekeep registers fold_case in Go on every
-- connection, so this variant has nothing to do.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
