-- Shared storage for automatic certificates (ACME): the account key,
-- certificates with their private keys and pending challenge answers, so
-- that several instances behind a load balancer use one account and one
-- certificate per domain, and any of them can answer a challenge.

-- +goose Up
CREATE TABLE acme_cache (
    key        TEXT PRIMARY KEY,
    data       @BLOB@ NOT NULL,
    updated_at @TIME@ NOT NULL
);

-- +goose Down
DROP TABLE acme_cache;
