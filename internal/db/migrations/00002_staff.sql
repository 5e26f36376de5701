-- Staff accounts, their second factors and sessions, one-time links,
-- rate-limit counters and the tamper-evident audit log.

-- +goose Up
CREATE TABLE staff (
    id             @ID@,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL DEFAULT '',
    role           TEXT NOT NULL CHECK (role IN ('owner', 'support', 'finance', 'analyst')),
    password_hash  TEXT NOT NULL DEFAULT '',
    totp_secret    TEXT NOT NULL DEFAULT '',
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    disabled_at    @TIME@,
    created_at     @TIME@ NOT NULL,
    updated_at     @TIME@ NOT NULL
);

CREATE TABLE staff_recovery_codes (
    id         @ID@,
    staff_id   BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL UNIQUE,
    used_at    @TIME@,
    created_at @TIME@ NOT NULL
);
CREATE INDEX staff_recovery_codes_staff ON staff_recovery_codes (staff_id);

CREATE TABLE staff_tokens (
    id         @ID@,
    token_hash TEXT NOT NULL UNIQUE,
    staff_id   BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('setup', 'reset')),
    expires_at @TIME@ NOT NULL,
    used_at    @TIME@,
    created_at @TIME@ NOT NULL
);
CREATE INDEX staff_tokens_staff ON staff_tokens (staff_id);

CREATE TABLE staff_sessions (
    id           @ID@,
    token_hash   TEXT NOT NULL UNIQUE,
    staff_id     BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    level        TEXT NOT NULL CHECK (level IN ('password', 'full')),
    created_at   @TIME@ NOT NULL,
    last_seen_at @TIME@ NOT NULL,
    expires_at   @TIME@ NOT NULL,
    revoked_at   @TIME@
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

CREATE TABLE rate_limits (
    bucket       TEXT NOT NULL,
    window_start @TIME@ NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,
    at           @TIME@ NOT NULL,
    actor_type   TEXT NOT NULL CHECK (actor_type IN ('staff', 'system', 'customer')),
    actor_id     BIGINT,
    action       TEXT NOT NULL,
    subject_type TEXT NOT NULL DEFAULT '',
    subject_id   TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '',
    source_net   TEXT NOT NULL DEFAULT '',
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_type, actor_id);
CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id);

-- The head of the audit chain: one row, locked by each append so that
-- entries from several instances form one chain.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE rate_limits;
DROP TABLE staff_sessions;
DROP TABLE staff_tokens;
DROP TABLE staff_recovery_codes;
DROP TABLE staff;
