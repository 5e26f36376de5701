-- The policy archive and notices (issue 17, docs/policy-archive.md): the
-- text of each published version of the privacy and cookie policies, the
-- parts of them the vendor writes, which version each signed-in customer
-- last saw, and the mailing of a significant change to customers.

-- +goose Up
-- The version as the page showed it: the policy's text as HTML and as
-- lines of plain text, which the archive compares. NULL in the versions
-- published before this migration: their text was never kept.
ALTER TABLE policy_versions ADD COLUMN content_html TEXT;
ALTER TABLE policy_versions ADD COLUMN content_text TEXT;

-- The vendor-written part of each policy, Markdown; no row: none.
CREATE TABLE policy_texts (
    document   TEXT PRIMARY KEY CHECK (document IN ('privacy', 'cookies')),
    body       TEXT NOT NULL,
    updated_by BIGINT,
    updated_at @TIME@ NOT NULL
);

-- The latest version of each policy a signed-in customer viewed, or whose
-- notice of a change they dismissed.
CREATE TABLE policy_views (
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    document    TEXT NOT NULL CHECK (document IN ('privacy', 'cookies')),
    seq         INTEGER NOT NULL,
    seen_at     @TIME@ NOT NULL,
    PRIMARY KEY (customer_id, document)
);
CREATE INDEX policy_views_seen ON policy_views (seen_at);

-- A significant change mailed to customers: at most one mailing per
-- version, one recipient row per customer, moved into the outbox by the
-- notices' dispatcher at the notices' rate.
CREATE TABLE policy_mailings (
    id          @ID@,
    document    TEXT NOT NULL CHECK (document IN ('privacy', 'cookies')),
    seq         INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('sending', 'sent')),
    started_by  BIGINT,
    started_at  @TIME@ NOT NULL,
    finished_at @TIME@,
    recipients  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (document, seq)
);

CREATE TABLE policy_mail_recipients (
    id            @ID@,
    mailing_id    BIGINT NOT NULL REFERENCES policy_mailings (id) ON DELETE CASCADE,
    customer_id   BIGINT NOT NULL,
    email         TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'queued', 'skipped')),
    skip_reason   TEXT NOT NULL DEFAULT '',
    outbox_id     BIGINT,
    dispatched_at @TIME@,
    created_at    @TIME@ NOT NULL,
    UNIQUE (mailing_id, customer_id)
);
CREATE INDEX policy_mail_recipients_next ON policy_mail_recipients (mailing_id, state, id);
CREATE INDEX policy_mail_recipients_dispatched ON policy_mail_recipients (dispatched_at);
CREATE INDEX policy_mail_recipients_customer ON policy_mail_recipients (customer_id);
CREATE INDEX policy_mail_recipients_email ON policy_mail_recipients (email);
CREATE INDEX policy_mail_recipients_created ON policy_mail_recipients (created_at);

-- +goose Down
DROP TABLE policy_mail_recipients;
DROP TABLE policy_mailings;
DROP TABLE policy_views;
DROP TABLE policy_texts;
ALTER TABLE policy_versions DROP COLUMN content_text;
ALTER TABLE policy_versions DROP COLUMN content_html;
