-- Licensing: a license policy per edition, licenses (one per paid order
-- line, or issued by staff) and the machines that hold their seats.

-- +goose Up
CREATE TABLE license_policies (
    edition_id        BIGINT PRIMARY KEY REFERENCES editions (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('perpetual', 'term')),
    term_months       INTEGER NOT NULL DEFAULT 0 CHECK (term_months >= 0),
    updates_months    INTEGER NOT NULL DEFAULT 0 CHECK (updates_months >= 0),
    grace_days        INTEGER NOT NULL DEFAULT 0 CHECK (grace_days >= 0),
    max_machines      INTEGER NOT NULL DEFAULT 0 CHECK (max_machines >= 0),
    entitlements      TEXT NOT NULL DEFAULT '',
    check_in_days     INTEGER NOT NULL DEFAULT 0 CHECK (check_in_days >= 0),
    updated_at        @TIME@ NOT NULL
);

CREATE TABLE licenses (
    id               @ID@,
    lic              TEXT NOT NULL UNIQUE,
    license_key      TEXT NOT NULL,
    kid              TEXT NOT NULL,
    customer_id      BIGINT,
    order_id         BIGINT REFERENCES orders (id) ON DELETE SET NULL,
    order_line_id    BIGINT REFERENCES order_lines (id) ON DELETE SET NULL,
    edition_id       BIGINT,
    product          TEXT NOT NULL,
    edition          TEXT NOT NULL,
    entitlements     TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    suspended_by     TEXT NOT NULL DEFAULT '' CHECK (suspended_by IN ('', 'order', 'staff')),
    issued_at        @TIME@ NOT NULL,
    expires_at       @TIME@,
    updates_until    @TIME@,
    grace_days       INTEGER NOT NULL DEFAULT 0,
    max_machines     INTEGER NOT NULL DEFAULT 0 CHECK (max_machines >= 0),
    check_in_days    INTEGER NOT NULL DEFAULT 0,
    updated_at       @TIME@ NOT NULL
);
CREATE INDEX licenses_customer ON licenses (customer_id);
CREATE INDEX licenses_order ON licenses (order_id);
CREATE UNIQUE INDEX licenses_order_line ON licenses (order_line_id);

CREATE TABLE license_machines (
    id               @ID@,
    license_id       BIGINT NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    fingerprint      TEXT NOT NULL,
    hostname         TEXT NOT NULL DEFAULT '',
    platform         TEXT NOT NULL DEFAULT '',
    version          TEXT NOT NULL DEFAULT '',
    activated_at     @TIME@ NOT NULL,
    last_check_in_at @TIME@,
    last_seen_at     @TIME@ NOT NULL,
    UNIQUE (license_id, fingerprint)
);
CREATE INDEX license_machines_seen ON license_machines (last_seen_at);

-- +goose Down
DROP TABLE license_machines;
DROP TABLE licenses;
DROP TABLE license_policies;
