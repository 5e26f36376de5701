-- The support desk (internal/support, docs/support.md): tickets from mail,
-- the web form and the console, their messages (the customer's and the
-- staff's, internal notes, the raw mail kept as it arrived), attachments,
-- tags, canned replies, mail parked for a person to decide, and the web
-- form's messages waiting for their sender to confirm the address.
-- Staff replies are sent through the outbox with threading headers.

-- +goose Up
CREATE TABLE support_tickets (
    id                 @ID@,
    -- token is the reply token of support+TOKEN@ addresses: random, so a
    -- stranger cannot write into a ticket by guessing its number.
    token              TEXT NOT NULL UNIQUE,
    customer_id        BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    email              TEXT NOT NULL,
    name               TEXT NOT NULL DEFAULT '',
    subject            TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('new', 'open', 'waiting', 'solved', 'closed')),
    channel            TEXT NOT NULL CHECK (channel IN ('email', 'web', 'console')),
    assignee_id        BIGINT REFERENCES staff (id) ON DELETE SET NULL,
    merged_into        BIGINT REFERENCES support_tickets (id) ON DELETE SET NULL,
    created_at         @TIME@ NOT NULL,
    updated_at         @TIME@ NOT NULL,
    first_response_due @TIME@ NOT NULL,
    resolution_due     @TIME@ NOT NULL,
    first_response_at  @TIME@,
    solved_at          @TIME@,
    closed_at          @TIME@
);
CREATE INDEX support_tickets_updated ON support_tickets (updated_at, id);
CREATE INDEX support_tickets_state ON support_tickets (state, updated_at);
CREATE INDEX support_tickets_customer ON support_tickets (customer_id);
CREATE INDEX support_tickets_email ON support_tickets (email);
CREATE INDEX support_tickets_assignee ON support_tickets (assignee_id, state);
CREATE INDEX support_tickets_closed ON support_tickets (closed_at);

CREATE TABLE support_messages (
    id          @ID@,
    ticket_id   BIGINT NOT NULL REFERENCES support_tickets (id) ON DELETE CASCADE,
    author      TEXT NOT NULL CHECK (author IN ('customer', 'staff', 'system')),
    staff_id    BIGINT REFERENCES staff (id) ON DELETE SET NULL,
    internal    @BOOL@ NOT NULL DEFAULT FALSE,
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'web', 'console')),
    from_addr   TEXT NOT NULL DEFAULT '',
    from_name   TEXT NOT NULL DEFAULT '',
    body_text   TEXT NOT NULL,
    body_html   TEXT NOT NULL DEFAULT '',
    -- mail_id: the Message-ID of a message that came by mail; dedup_key
    -- (its hash with the sender) stops a redelivered message twice.
    mail_id     TEXT NOT NULL DEFAULT '',
    dedup_key   TEXT UNIQUE,
    outbox_id   BIGINT,
    raw         @BLOB@,
    problems    TEXT NOT NULL DEFAULT '',
    created_at  @TIME@ NOT NULL
);
CREATE INDEX support_messages_ticket ON support_messages (ticket_id, id);
CREATE INDEX support_messages_outbox ON support_messages (outbox_id);
CREATE INDEX support_messages_mail ON support_messages (mail_id);
CREATE INDEX support_messages_staff ON support_messages (staff_id);

CREATE TABLE support_attachments (
    id           @ID@,
    message_id   BIGINT NOT NULL REFERENCES support_messages (id) ON DELETE CASCADE,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL CHECK (size >= 0),
    sha256       TEXT NOT NULL,
    data         @BLOB@ NOT NULL
);
CREATE INDEX support_attachments_message ON support_attachments (message_id);

CREATE TABLE support_tags (
    ticket_id BIGINT NOT NULL REFERENCES support_tickets (id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX support_tags_tag ON support_tags (tag);

CREATE TABLE support_canned (
    id         @ID@,
    title      TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    updated_at @TIME@ NOT NULL
);

-- Mail that opened no ticket: parked for a person (spam, an unknown reply
-- token, a sender the ticket does not know, a flood, a restricted
-- customer), or ignored by rule (delivery reports, auto-replies, our own
-- mail coming back), each with its reason. decided_at is set when a person
-- (or, for ignored mail, the rule) decided; the purge counts from it.
CREATE TABLE support_parked (
    id          @ID@,
    state       TEXT NOT NULL CHECK (state IN ('parked', 'ignored', 'released', 'discarded')),
    reason      TEXT NOT NULL,
    from_addr   TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    recipient   TEXT NOT NULL DEFAULT '',
    ticket_id   BIGINT REFERENCES support_tickets (id) ON DELETE SET NULL,
    raw         @BLOB@ NOT NULL,
    received_at @TIME@ NOT NULL,
    decided_at  @TIME@,
    decided_by  BIGINT REFERENCES staff (id) ON DELETE SET NULL
);
CREATE INDEX support_parked_state ON support_parked (state, received_at);
CREATE INDEX support_parked_from ON support_parked (from_addr);
CREATE INDEX support_parked_decided ON support_parked (decided_at);

-- A visitor's message from the web form, held until they confirm their
-- address with the link mailed to it.
CREATE TABLE support_pending (
    id           @ID@,
    token_hash   TEXT NOT NULL UNIQUE,
    email        TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   @TIME@ NOT NULL,
    expires_at   @TIME@ NOT NULL,
    ticket_id    BIGINT REFERENCES support_tickets (id) ON DELETE SET NULL
);
CREATE INDEX support_pending_created ON support_pending (created_at);
CREATE INDEX support_pending_email ON support_pending (email);

-- Threading headers of staff replies, and whether a message is a person's
-- (auto_submitted '') or automatic (RFC 3834).
ALTER TABLE outbox ADD COLUMN in_reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN refs TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN auto_submitted TEXT NOT NULL DEFAULT 'auto-generated';

-- +goose Down
ALTER TABLE outbox DROP COLUMN auto_submitted;
ALTER TABLE outbox DROP COLUMN reply_to;
ALTER TABLE outbox DROP COLUMN refs;
ALTER TABLE outbox DROP COLUMN in_reply_to;
DROP TABLE support_pending;
DROP TABLE support_parked;
DROP TABLE support_canned;
DROP TABLE support_tags;
DROP TABLE support_attachments;
DROP TABLE support_messages;
DROP TABLE support_tickets;
