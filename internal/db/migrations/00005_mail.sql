-- The email outbox: every message is written in the transaction of the
-- change that causes it and sent afterwards by the worker.

-- +goose Up
CREATE TABLE outbox (
    id           @ID@,
    kind         TEXT NOT NULL CHECK (kind IN ('transactional', 'bulk')),
    template     TEXT NOT NULL,
    to_addr      TEXT NOT NULL,
    subject      TEXT NOT NULL,
    text_body    TEXT NOT NULL,
    html_body    TEXT NOT NULL DEFAULT '',
    message_id   TEXT NOT NULL UNIQUE,
    dedup_key    TEXT UNIQUE,
    customer_id  BIGINT,
    staff_id     BIGINT,
    created_at   @TIME@ NOT NULL,
    send_after   @TIME@ NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    locked_until @TIME@,
    locked_by    TEXT NOT NULL DEFAULT '',
    sent_at      @TIME@,
    transport    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (sent_at, send_after);
CREATE INDEX outbox_customer ON outbox (customer_id);

-- +goose Down
DROP TABLE outbox;
