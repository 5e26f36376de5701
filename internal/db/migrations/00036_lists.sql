-- Mailing lists (issue 15, docs/mailing.md "Lists and unsubscribing"): a
-- general newsletter and one release-announcement list per product; who
-- asked to join one (a request waits for the mailed confirmation: double
-- opt-in), and who is on one, with the proof of their consent.

-- +goose Up
-- key is 'newsletter' or 'releases:<product id>', so that each list exists
-- once however many instances create it at the same moment.
CREATE TABLE mailing_lists (
    id          @ID@,
    key         TEXT NOT NULL UNIQUE,
    product_id  BIGINT REFERENCES products (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  @TIME@ NOT NULL
);

-- A request to join a list, waiting for its confirmation link (token_hash:
-- the SHA-256 of a random token, internal/token). wording is the exact
-- text of the consent shown on the form, policy_seq the privacy policy's
-- version then. member_id is set once the link is used, so a second use
-- says "already confirmed" and changes nothing. Deleted 30 days after it
-- was made (the member row keeps the proof).
CREATE TABLE list_requests (
    id           @ID@,
    list_id      BIGINT NOT NULL REFERENCES mailing_lists (id) ON DELETE CASCADE,
    customer_id  BIGINT REFERENCES customers (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    wording      TEXT NOT NULL,
    policy_seq   INTEGER NOT NULL,
    requested_at @TIME@ NOT NULL,
    expires_at   @TIME@ NOT NULL,
    member_id    BIGINT
);
CREATE INDEX list_requests_requested ON list_requests (requested_at);
CREATE INDEX list_requests_email ON list_requests (email);
CREATE INDEX list_requests_customer ON list_requests (customer_id);

-- A confirmed subscription: a customer's (customer_id, email '') or a
-- subscriber's without an account (customer_id NULL, email). It counts
-- while ended_at is NULL; an ended one stays as the proof of the consent
-- (wording, when asked, when confirmed, the policy version) for three
-- years after it ended.
CREATE TABLE list_members (
    id           @ID@,
    list_id      BIGINT NOT NULL REFERENCES mailing_lists (id) ON DELETE CASCADE,
    customer_id  BIGINT REFERENCES customers (id) ON DELETE CASCADE,
    email        TEXT NOT NULL DEFAULT '',
    wording      TEXT NOT NULL,
    policy_seq   INTEGER NOT NULL,
    requested_at @TIME@ NOT NULL,
    confirmed_at @TIME@ NOT NULL,
    ended_at     @TIME@,
    ended_via    TEXT NOT NULL DEFAULT '' CHECK (ended_via IN ('', 'one-click', 'page', 'mailto', 'account')),
    CHECK ((customer_id IS NULL) <> (email = ''))
);
CREATE UNIQUE INDEX list_members_customer_once ON list_members (list_id, customer_id) WHERE ended_at IS NULL AND customer_id IS NOT NULL;
CREATE UNIQUE INDEX list_members_email_once ON list_members (list_id, email) WHERE ended_at IS NULL AND customer_id IS NULL;
CREATE INDEX list_members_audience ON list_members (list_id) WHERE ended_at IS NULL;
CREATE INDEX list_members_customer ON list_members (customer_id);
CREATE INDEX list_members_email ON list_members (email);
CREATE INDEX list_members_ended ON list_members (ended_at);

-- +goose Down
DROP TABLE list_members;
DROP TABLE list_requests;
DROP TABLE mailing_lists;
