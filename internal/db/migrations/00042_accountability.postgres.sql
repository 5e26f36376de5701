-- +goose Up
-- The recipients register (issue 17, docs/accountability.md): the
-- processors and other recipients of personal data, with where they
-- process it, the safeguard for a transfer out of the EEA, the agreement
-- on file and when to review it. declared_id ties a row to a recipient the
-- data inventory declares (internal/privacy); vendor-added rows have none.
-- Companies, not people: no personal data.
CREATE TABLE recipients (
    id              @ID@,
    declared_id     TEXT UNIQUE,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('processor', 'controller', 'joint_controller', 'other')),
    purpose         TEXT NOT NULL,
    data_categories TEXT NOT NULL DEFAULT '', -- inventory categories, comma-separated
    location        TEXT NOT NULL,
    outside_eea     @BOOL@ NOT NULL DEFAULT FALSE,
    safeguard       TEXT NOT NULL DEFAULT '' CHECK (safeguard IN ('', 'adequacy', 'scc', 'bcr', 'derogation')),
    safeguard_note  TEXT NOT NULL DEFAULT '',
    agreement_ref   TEXT NOT NULL DEFAULT '',
    agreement_date  @TIME@,
    review_date     @TIME@,
    ended_at        @TIME@,                   -- data no longer goes to them
    created_at      @TIME@ NOT NULL,
    updated_at      @TIME@ NOT NULL,
    updated_by      BIGINT
);

-- Disclosures to public authorities: who asked, on which legal basis,
-- what, what was disclosed and when, who decided. A row may be about one
-- customer (customer_id, subject_email); withheld marks one the law
-- forbids telling them about, with the reason, and keeps it out of their
-- access export.
CREATE TABLE disclosures (
    id              @ID@,
    authority       TEXT NOT NULL,
    authority_ref   TEXT NOT NULL DEFAULT '',
    legal_basis     TEXT NOT NULL,
    requested_at    @TIME@ NOT NULL,
    asked           TEXT NOT NULL,
    decision        TEXT NOT NULL CHECK (decision IN ('pending', 'disclosed', 'partly', 'refused')),
    disclosed       TEXT NOT NULL DEFAULT '',
    disclosed_at    @TIME@,
    decided_by      BIGINT,
    customer_id     BIGINT,
    subject_email   TEXT NOT NULL DEFAULT '',
    withheld        @BOOL@ NOT NULL DEFAULT FALSE,
    withheld_reason TEXT NOT NULL DEFAULT '',
    created_by      BIGINT,
    created_at      @TIME@ NOT NULL,
    updated_at      @TIME@ NOT NULL
);
CREATE INDEX disclosures_created ON disclosures (created_at);
CREATE INDEX disclosures_customer ON disclosures (customer_id);
CREATE INDEX disclosures_email ON disclosures (subject_email);

-- The privacy policy lists the register: a change to it is a change of
-- the public pages (migration 00014).
CREATE TRIGGER recipients_content AFTER INSERT OR UPDATE OR DELETE ON recipients
    FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();

-- +goose Down
DROP TRIGGER recipients_content ON recipients;
DROP TABLE disclosures;
DROP TABLE recipients;
