-- Downloads: what a release needs of a license (entitlements), whether
-- anyone may download it after confirming an email address (trials, free
-- downloads), an RPM's metadata for the YUM repository, and the log of
-- downloads (log data: the network address is truncated after a short
-- period and the rows deleted after the retention period, by the purge).

-- +goose Up
-- requires: the entitlements a license must hold, space-separated and
-- sorted; '' means any license of the product.
ALTER TABLE releases ADD COLUMN requires TEXT NOT NULL DEFAULT '';
ALTER TABLE releases ADD COLUMN email_gated @BOOL@ NOT NULL DEFAULT FALSE;
-- pkg_meta: what a repository index needs beyond name, version and
-- architecture (for an .rpm, the primary.xml fields), as JSON.
ALTER TABLE release_artifacts ADD COLUMN pkg_meta TEXT NOT NULL DEFAULT '';

CREATE TABLE downloads (
    id                @ID@,
    artifact_id       BIGINT NOT NULL REFERENCES release_artifacts (id) ON DELETE CASCADE,
    license_id        BIGINT REFERENCES licenses (id) ON DELETE SET NULL,
    customer_id       BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    via               TEXT NOT NULL CHECK (via IN ('account', 'email', 'apt', 'yum')),
    network           TEXT NOT NULL, -- the full address until the purge truncates it to its network (a "/" in it)
    first_byte        BIGINT NOT NULL DEFAULT 0 CHECK (first_byte >= 0),
    at                @TIME@ NOT NULL
);
CREATE INDEX downloads_at ON downloads (at);
CREATE INDEX downloads_license ON downloads (license_id);
CREATE INDEX downloads_customer ON downloads (customer_id);
CREATE INDEX downloads_artifact ON downloads (artifact_id);

-- +goose Down
DROP TABLE downloads;
ALTER TABLE release_artifacts DROP COLUMN pkg_meta;
ALTER TABLE releases DROP COLUMN email_gated;
ALTER TABLE releases DROP COLUMN requires;
