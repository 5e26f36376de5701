-- Foundation: vendor settings, the catalog and the history of the policy texts.
-- Tokens in @...@ are replaced per dialect by internal/db/migrate.go.

-- +goose Up
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at @TIME@ NOT NULL
);

CREATE TABLE products (
    id          @ID@,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    tagline     TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    active      @BOOL@ NOT NULL DEFAULT TRUE,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  @TIME@ NOT NULL,
    updated_at  @TIME@ NOT NULL
);

CREATE TABLE editions (
    id         @ID@,
    product_id BIGINT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    slug       TEXT NOT NULL,
    name       TEXT NOT NULL,
    summary    TEXT NOT NULL DEFAULT '',
    features   TEXT NOT NULL DEFAULT '',
    active     @BOOL@ NOT NULL DEFAULT TRUE,
    position   INTEGER NOT NULL DEFAULT 0,
    created_at @TIME@ NOT NULL,
    updated_at @TIME@ NOT NULL,
    UNIQUE (product_id, slug)
);
CREATE INDEX editions_product ON editions (product_id, position);

CREATE TABLE prices (
    id           @ID@,
    edition_id   BIGINT NOT NULL REFERENCES editions (id) ON DELETE CASCADE,
    currency     TEXT NOT NULL CHECK (length(currency) = 3),
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    billing      TEXT NOT NULL CHECK (billing IN ('one_time', 'yearly')),
    active       @BOOL@ NOT NULL DEFAULT TRUE,
    created_at   @TIME@ NOT NULL,
    UNIQUE (edition_id, currency, billing)
);

CREATE TABLE policy_versions (
    id           @ID@,
    document     TEXT NOT NULL CHECK (document IN ('privacy', 'cookies')),
    seq          INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    published_at @TIME@ NOT NULL,
    significant  @BOOL@ NOT NULL DEFAULT FALSE,
    change_note  TEXT NOT NULL DEFAULT '',
    UNIQUE (document, seq)
);

-- +goose Down
DROP TABLE policy_versions;
DROP TABLE prices;
DROP TABLE editions;
DROP TABLE products;
DROP TABLE settings;
