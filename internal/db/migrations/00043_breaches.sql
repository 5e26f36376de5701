-- The breach register (GDPR Art. 33), its history, the people told of a
-- breach (Art. 34), the record of data reviews, and whose mail an outbox
-- row is (so that a staff member's export finds their password resets).

-- +goose Up
CREATE TABLE breaches (
    id                    @ID@,
    title                 TEXT NOT NULL,
    what_happened         TEXT NOT NULL,
    occurred_at           @TIME@,
    discovered_at         @TIME@ NOT NULL,
    categories            TEXT NOT NULL DEFAULT '',
    subjects_affected     BIGINT NOT NULL DEFAULT 0,
    records_affected      BIGINT NOT NULL DEFAULT 0,
    consequences          TEXT NOT NULL DEFAULT '',
    measures              TEXT NOT NULL DEFAULT '',
    authority             TEXT NOT NULL DEFAULT 'undecided' CHECK (authority IN ('undecided', 'required', 'not_required')),
    authority_reason      TEXT NOT NULL DEFAULT '',
    authority_notified_at @TIME@,
    authority_reference   TEXT NOT NULL DEFAULT '',
    subjects_notice       TEXT NOT NULL DEFAULT 'undecided' CHECK (subjects_notice IN ('undecided', 'required', 'not_required')),
    subjects_reason       TEXT NOT NULL DEFAULT '',
    notice_subject        TEXT NOT NULL DEFAULT '',
    notice_body           TEXT NOT NULL DEFAULT '',
    notice_audience       TEXT NOT NULL DEFAULT '' CHECK (notice_audience IN ('', 'customers', 'addresses')),
    notice_sent_at        @TIME@,
    notice_sent_by        BIGINT REFERENCES staff (id),
    closed_at             @TIME@,
    version               INTEGER NOT NULL DEFAULT 1,
    recorded_by           BIGINT REFERENCES staff (id),
    created_at            @TIME@ NOT NULL,
    updated_at            @TIME@ NOT NULL
);
CREATE INDEX breaches_open ON breaches (closed_at, discovered_at);
CREATE INDEX breaches_recorded_by ON breaches (recorded_by);

-- Each edit keeps the version it replaced, whole, as JSON: the register
-- is edited with history, never rewritten or deleted.
CREATE TABLE breach_versions (
    id         @ID@,
    breach_id  BIGINT NOT NULL REFERENCES breaches (id),
    version    INTEGER NOT NULL,
    snapshot   TEXT NOT NULL,
    changed_by BIGINT REFERENCES staff (id),
    changed_at @TIME@ NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    UNIQUE (breach_id, version)
);
CREATE INDEX breach_versions_staff ON breach_versions (changed_by);

-- The people a breach notice goes to: pending until an owner sends it,
-- then queued (with its outbox row) or skipped (with why).
CREATE TABLE breach_subjects (
    id          @ID@,
    breach_id   BIGINT NOT NULL REFERENCES breaches (id),
    email       TEXT NOT NULL,
    customer_id BIGINT,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued', 'skipped')),
    skip_reason TEXT NOT NULL DEFAULT '',
    outbox_id   BIGINT,
    created_at  @TIME@ NOT NULL,
    notified_at @TIME@,
    UNIQUE (breach_id, email)
);
CREATE INDEX breach_subjects_customer ON breach_subjects (customer_id);
CREATE INDEX breach_subjects_email ON breach_subjects (email);
CREATE INDEX breach_subjects_created ON breach_subjects (created_at);

CREATE TABLE privacy_reviews (
    id          @ID@,
    reviewed_by BIGINT REFERENCES staff (id),
    reviewed_at @TIME@ NOT NULL,
    notes       TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX privacy_reviews_staff ON privacy_reviews (reviewed_by);
CREATE INDEX privacy_reviews_at ON privacy_reviews (reviewed_at);

-- Whose mail a row is: the staff member's (staff_id) or a customer's or
-- visitor's. Access and erasure tell the two apart by it.
ALTER TABLE outbox ADD COLUMN recipient_kind TEXT NOT NULL DEFAULT 'customer' CHECK (recipient_kind IN ('customer', 'staff'));
UPDATE outbox SET recipient_kind = 'staff' WHERE staff_id IS NOT NULL;
CREATE INDEX outbox_staff ON outbox (staff_id);

-- +goose Down
DROP INDEX outbox_staff;
ALTER TABLE outbox DROP COLUMN recipient_kind;
DROP TABLE privacy_reviews;
DROP TABLE breach_subjects;
DROP TABLE breach_versions;
DROP TABLE breaches;
