-- fold_case(text): Unicode lower-casing for case-insensitive search, the
-- same on both databases (internal/db/dialect.go, FoldCase). On SQLite it
-- is registered in Go; here it is lower(), which folds by the database's
-- LC_CTYPE (a UTF-8 locale). A plain SQL function is inlined by the
-- planner, so fold_case(x) costs what lower(x) costs.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION fold_case(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(t) $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION fold_case(text);
