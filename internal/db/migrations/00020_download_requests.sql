-- Email-gated downloads (trials, free downloads): a visitor asks for a
-- release with an email address, receives a one-time link, and once the
-- address is confirmed downloads the release's files for a bounded time.
-- The address is used for nothing else; rows are deleted 30 days after
-- they were made (the retention purge), and with them, by the cascade,
-- the download log rows of the request, so an erased or expired requester
-- leaves no row about their downloads behind.

-- +goose Up
CREATE TABLE download_requests (
    id           @ID@,
    release_id   BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    -- only the SHA-256 of the link's token (internal/token)
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   @TIME@ NOT NULL,
    -- the link confirms the address until then, once
    expires_at   @TIME@ NOT NULL,
    confirmed_at @TIME@,
    -- set at confirmation: the files may be downloaded until then
    access_until @TIME@,
    CHECK ((confirmed_at IS NULL) = (access_until IS NULL))
);
CREATE INDEX download_requests_email ON download_requests (email);
CREATE INDEX download_requests_created ON download_requests (created_at);

ALTER TABLE downloads ADD COLUMN request_id BIGINT REFERENCES download_requests (id) ON DELETE CASCADE;
CREATE INDEX downloads_request ON downloads (request_id);

-- +goose Down
DROP INDEX downloads_request;
ALTER TABLE downloads DROP COLUMN request_id;
DROP TABLE download_requests;
