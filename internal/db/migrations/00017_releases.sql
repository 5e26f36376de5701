-- Releases: a product's versions, each with its channel, notes, state
-- (draft, published, yanked) and signed checksums file, and the artifacts
-- of each release: the files customers download, their checksum and
-- minisign signature, and for .deb and .rpm packages what the package
-- metadata says (the package repositories index it).

-- +goose Up
CREATE TABLE releases (
    id                  @ID@,
    product_id          BIGINT NOT NULL REFERENCES products (id),
    version             TEXT NOT NULL,
    -- The version without build metadata: semver ranks 1.0.0+a and
    -- 1.0.0+b the same, so they cannot both be releases of a product.
    version_core        TEXT NOT NULL,
    channel             TEXT NOT NULL CHECK (channel IN ('stable', 'beta')),
    notes               TEXT NOT NULL DEFAULT '',
    checksums           TEXT NOT NULL DEFAULT '',
    checksums_signature TEXT NOT NULL DEFAULT '',
    created_at          @TIME@ NOT NULL,
    updated_at          @TIME@ NOT NULL,
    published_at        @TIME@,
    yanked_at           @TIME@,
    yank_reason         TEXT NOT NULL DEFAULT '',
    CHECK (yanked_at IS NULL OR published_at IS NOT NULL),
    UNIQUE (product_id, version_core)
);

CREATE TABLE release_artifacts (
    id          @ID@,
    release_id  BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    file_name   TEXT NOT NULL,
    platform    TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('tarball', 'deb', 'rpm', 'other')),
    size        BIGINT NOT NULL CHECK (size >= 0),
    sha256      TEXT NOT NULL,
    signature   TEXT NOT NULL,
    store_key   TEXT NOT NULL UNIQUE,
    pkg_name    TEXT NOT NULL DEFAULT '',
    pkg_version TEXT NOT NULL DEFAULT '',
    pkg_arch    TEXT NOT NULL DEFAULT '',
    pkg_control TEXT NOT NULL DEFAULT '',
    created_at  @TIME@ NOT NULL,
    UNIQUE (release_id, file_name)
);
CREATE INDEX release_artifacts_package ON release_artifacts (pkg_name, pkg_arch) WHERE pkg_name <> '';

-- +goose Down
DROP TABLE release_artifacts;
DROP TABLE releases;
