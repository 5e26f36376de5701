-- What each customer chose about the processing of their data: a
-- restriction, objections to processing based on legitimate interests,
-- and consents (given and withdrawn), with when.

-- +goose Up
CREATE TABLE subject_choices (
    id          @ID@,
    customer_id BIGINT NOT NULL,
    choice      TEXT NOT NULL CHECK (choice IN ('restriction', 'objection', 'consent')),
    purpose     TEXT NOT NULL DEFAULT '',
    active      @BOOL@ NOT NULL,
    changed_at  @TIME@ NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    UNIQUE (customer_id, choice, purpose)
);

-- +goose Down
DROP TABLE subject_choices;
