-- Notices (issue 15, docs/mailing.md "Notices"): security notices and
-- product updates to license holders, release announcements and
-- newsletters to mailing lists; each notice's recipients written in one
-- INSERT ... SELECT when it starts, then moved into the outbox by the
-- dispatcher at the configured rate.

-- +goose Up
CREATE TABLE notices (
    id           @ID@,
    kind         TEXT NOT NULL CHECK (kind IN ('security', 'update', 'release', 'newsletter')),
    status       TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent')),
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,            -- Markdown
    audience     TEXT NOT NULL DEFAULT '', -- the license-holder filters, JSON
    list_id      BIGINT,                   -- release announcements and newsletters
    release_id   BIGINT,                   -- the release an announcement was started from
    send_at      @TIME@,                   -- when scheduled
    note         TEXT NOT NULL DEFAULT '', -- why a scheduled notice did not start
    created_by   BIGINT,
    created_at   @TIME@ NOT NULL,
    updated_at   @TIME@ NOT NULL,
    started_at   @TIME@,
    finished_at  @TIME@,
    recipients   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notices_status ON notices (status, send_at);

-- One row per person a notice goes to. state: waiting (not yet handed to
-- the outbox), queued (outbox_id set), skipped (their choices changed
-- after the notice started: nothing sent).
CREATE TABLE notice_recipients (
    id            @ID@,
    notice_id     BIGINT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    customer_id   BIGINT,
    subscriber_id BIGINT,
    email         TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'queued', 'skipped')),
    skip_reason   TEXT NOT NULL DEFAULT '',
    outbox_id     BIGINT,
    dispatched_at @TIME@,
    created_at    @TIME@ NOT NULL,
    UNIQUE (notice_id, email)
);
CREATE INDEX notice_recipients_created ON notice_recipients (created_at);
CREATE INDEX notice_recipients_next ON notice_recipients (notice_id, state, id);
CREATE INDEX notice_recipients_dispatched ON notice_recipients (dispatched_at);
CREATE INDEX notice_recipients_customer ON notice_recipients (customer_id);
CREATE INDEX notice_recipients_email ON notice_recipients (email); -- access and erasure find a person by address too

-- The dispatchers' turnstile: each run locks this one row, so that
-- instances sharing a PostgreSQL database count the rate together.
CREATE TABLE notice_dispatch (
    id        INTEGER PRIMARY KEY,
    last_run  @TIME@
);
INSERT INTO notice_dispatch (id) VALUES (1);

-- +goose Down
DROP TABLE notice_dispatch;
DROP TABLE notice_recipients;
DROP TABLE notices;
