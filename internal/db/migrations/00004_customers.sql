-- Customer accounts: the account with its billing profile, hashed one-time
-- links (sign-in and email change) and hashed sessions. Customers sign in
-- with emailed links only; there are no passwords.

-- +goose Up
CREATE TABLE customers (
    id            @ID@,
    email         TEXT NOT NULL UNIQUE, -- lower-case (emailaddr.NormaliseEmail)
    name          TEXT NOT NULL DEFAULT '',
    company       TEXT NOT NULL DEFAULT '',
    address_line1 TEXT NOT NULL DEFAULT '',
    address_line2 TEXT NOT NULL DEFAULT '',
    postal_code   TEXT NOT NULL DEFAULT '',
    city          TEXT NOT NULL DEFAULT '',
    region        TEXT NOT NULL DEFAULT '',
    country       TEXT NOT NULL DEFAULT '', -- ISO 3166-1 alpha-2, '' when not given
    vat_id        TEXT NOT NULL DEFAULT '',
    created_at    @TIME@ NOT NULL,
    updated_at    @TIME@ NOT NULL,
    last_seen_at  @TIME@
);

-- email is where a sign-in link was sent; for an email change it is the
-- account's address when the change was asked for, and new_email (where
-- the link was sent) the address it changes to. customer_id is NULL for a
-- sign-in to an address without an account: the account is created only
-- when the link is used.
CREATE TABLE customer_tokens (
    id          @ID@,
    token_hash  TEXT NOT NULL UNIQUE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('signin', 'email_change')),
    email       TEXT NOT NULL,
    customer_id BIGINT REFERENCES customers (id) ON DELETE CASCADE,
    new_email   TEXT NOT NULL DEFAULT '',
    expires_at  @TIME@ NOT NULL,
    used_at     @TIME@,
    created_at  @TIME@ NOT NULL
);
CREATE INDEX customer_tokens_customer ON customer_tokens (customer_id);
CREATE INDEX customer_tokens_email ON customer_tokens (email);
CREATE INDEX customer_tokens_created ON customer_tokens (created_at);

CREATE TABLE customer_sessions (
    id           @ID@,
    token_hash   TEXT NOT NULL UNIQUE,
    customer_id  BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at   @TIME@ NOT NULL,
    last_seen_at @TIME@ NOT NULL,
    expires_at   @TIME@ NOT NULL,
    revoked_at   @TIME@
);
CREATE INDEX customer_sessions_customer ON customer_sessions (customer_id);
CREATE INDEX customer_sessions_created ON customer_sessions (created_at);

-- +goose Down
DROP TABLE customer_sessions;
DROP TABLE customer_tokens;
DROP TABLE customers;
