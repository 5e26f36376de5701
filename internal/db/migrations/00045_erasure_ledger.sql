-- The erasure ledger (issue 18, docs/backups.md): one row per erasure,
-- holding no personal data, only keyed hashes (HMAC-SHA-256 under a key
-- kept in the data directory, never in the database) of the subject's
-- kind and account number and of their email address, so that a restore
-- from a backup can erase again everyone erased since the backup was
-- taken. The same entries are appended to a file in the data directory,
-- which survives the loss of the database.

-- +goose Up
CREATE TABLE erasure_ledger (
    id           @ID@,
    erased_at    @TIME@ NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('customer', 'visitor', 'staff')),
    subject_hash TEXT NOT NULL,
    email_hash   TEXT NOT NULL DEFAULT '',
    key_id       TEXT NOT NULL
);
CREATE INDEX erasure_ledger_erased_at ON erasure_ledger (erased_at);

-- +goose Down
DROP TABLE erasure_ledger;
