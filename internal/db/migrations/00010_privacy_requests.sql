-- Privacy requests that arrive outside the self-service privacy center
-- (by email to the privacy contact, by phone, by letter) and are handled in
-- the staff console: one row per request with its deadline, the state of
-- identity verification and, once closed, a summary of what was done;
-- request_events holds every step. See docs/privacy-requests.md.

-- +goose Up
CREATE TABLE privacy_requests (
    id               @ID@,
    kind             TEXT NOT NULL CHECK (kind IN ('access', 'portability', 'rectification', 'erasure', 'restriction', 'objection', 'withdrawal')),
    email            TEXT NOT NULL, -- lower-case (emailaddr.NormaliseEmail)
    customer_id      BIGINT,        -- the account with this address when the request arrived
    channel          TEXT NOT NULL CHECK (channel IN ('console', 'email', 'self_service')),
    state            TEXT NOT NULL CHECK (state IN ('received', 'verifying', 'in_progress', 'completed', 'refused', 'extended')),
    received_at      @TIME@ NOT NULL,
    due_at           @TIME@ NOT NULL, -- received_at plus one calendar month
    extended_due_at  @TIME@,          -- set once, by an extension of up to two months
    extension_reason TEXT NOT NULL DEFAULT '',
    code_hash        TEXT,            -- the pending verification code, hashed; NULL once used
    code_expires_at  @TIME@,
    code_attempts    INTEGER NOT NULL DEFAULT 0,
    code_used_at     @TIME@,
    verified_at      @TIME@,
    doubt_reason     TEXT NOT NULL DEFAULT '',
    refusal_reason   TEXT NOT NULL DEFAULT '',
    note             TEXT NOT NULL DEFAULT '',
    outcome          TEXT NOT NULL DEFAULT '', -- counts and categories, never the data itself
    created_at       @TIME@ NOT NULL,
    updated_at       @TIME@ NOT NULL,
    completed_at     @TIME@           -- when the request was closed (completed or refused)
);
-- One open request per address and kind: a repeated request finds the
-- open one, even when two arrive at the same moment.
CREATE UNIQUE INDEX privacy_requests_open ON privacy_requests (email, kind) WHERE state NOT IN ('completed', 'refused');
CREATE INDEX privacy_requests_email ON privacy_requests (email);
CREATE INDEX privacy_requests_customer ON privacy_requests (customer_id);
CREATE INDEX privacy_requests_state ON privacy_requests (state, due_at);

CREATE TABLE request_events (
    id         @ID@,
    request_id BIGINT NOT NULL REFERENCES privacy_requests (id) ON DELETE CASCADE,
    at         @TIME@ NOT NULL,
    from_state TEXT NOT NULL, -- '' for the request's arrival
    to_state   TEXT NOT NULL, -- the same as from_state for steps that change no state
    actor      TEXT NOT NULL, -- 'staff:ID', 'requester' or 'system'
    note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX request_events_request ON request_events (request_id, id);

-- +goose Down
DROP TABLE request_events;
DROP TABLE privacy_requests;
