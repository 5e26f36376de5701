-- The state of `storekeep db copy` (internal/dbcopy) in the database it
-- copies into: which source it copies (a fingerprint of that installation's
-- migration history, and the file it was read from), and how far each
-- table has come. The progress of a table is committed in the transaction
-- of its batch, so a copy that was interrupted continues from the last
-- batch that was committed. The copy never copies these two tables; on the
-- database it reads from (SQLite) they stay empty.

-- +goose Up
CREATE TABLE db_copy (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    source      TEXT NOT NULL,    -- fingerprint of the source installation
    source_path TEXT NOT NULL,    -- the SQLite file, as given
    version     BIGINT NOT NULL,  -- schema version of source and target
    started_at  @TIME@ NOT NULL,
    copied_at   @TIME@,           -- every row copied, sequences reset
    verified_at @TIME@            -- counts and checksums matched
);

-- name is a table, or table.column for a reference copied after the
-- tables (a cycle of foreign keys, or a table referring to itself);
-- last_key is the source's rowid of the last row copied.
CREATE TABLE db_copy_tables (
    name       TEXT PRIMARY KEY,
    last_key   BIGINT NOT NULL DEFAULT 0,
    rows       BIGINT NOT NULL DEFAULT 0,
    done       @BOOL@ NOT NULL DEFAULT FALSE,
    updated_at @TIME@ NOT NULL
);

-- +goose Down
DROP TABLE db_copy_tables;
DROP TABLE db_copy;
