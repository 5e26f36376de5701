-- The suppression list (issue 15, docs/mailing.md, "Bounces and
-- complaints"): addresses no bulk message goes to any more, because mail
-- to them bounced for good, bounced softly again and again, or their
-- owner reported our mail as spam. Transactional mail (receipts, sign-in
-- links) still goes to them.
--
-- A row holds no address: addr_hash is an HMAC-SHA256 of the normalised
-- address under a key derived from the installation secret, so the worker
-- can ask "is this address suppressed?" and a copy of the table names no
-- one. customer_id, when the bounced message had one, lets an access
-- export and an erasure find the row.
--
-- outbox.suppressed_at marks a bulk message the worker did not send
-- because its address was suppressed; it is never retried.

-- +goose Up
CREATE TABLE mail_suppressions (
    id          @ID@,
    addr_hash   TEXT NOT NULL UNIQUE,
    reason      TEXT NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'soft_bounces')),
    detail      TEXT NOT NULL DEFAULT '',
    outbox_id   BIGINT,
    customer_id BIGINT,
    created_at  @TIME@ NOT NULL
);
CREATE INDEX mail_suppressions_customer ON mail_suppressions (customer_id);
CREATE INDEX mail_suppressions_created_at ON mail_suppressions (created_at);
ALTER TABLE outbox ADD COLUMN suppressed_at @TIME@;

-- +goose Down
ALTER TABLE outbox DROP COLUMN suppressed_at;
DROP TABLE mail_suppressions;
