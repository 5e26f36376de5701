-- Fraud review (issue 16, docs/fraud.md): signals of possible fraud open
-- or add to a review case; a staff member looks at the case, may ask the
-- customer for their view, and decides. Nothing in these tables changes
-- an order, a license, a credential or a customer: a decision does, made
-- by a person, through the domain functions that own those rows.
--
-- Evidence is figures ("networks in 24 hours": 9), never addresses.

-- +goose Up
-- One case gathers the signals about one subject: the customer when known,
-- else the order, else the license (subject_key "customer:12"). open_key
-- is subject_key while the case is open and NULL once it is closed, so a
-- unique index keeps one open case per subject even when instances raise
-- signals at the same moment; a signal after the case closed opens a new
-- one.
CREATE TABLE fraud_cases (
    id           @ID@,
    status       TEXT NOT NULL CHECK (status IN ('open', 'asked', 'closed')),
    subject_key  TEXT NOT NULL,
    open_key     TEXT UNIQUE,
    customer_id  BIGINT,
    order_id     BIGINT,
    license_id   BIGINT,
    signals      INTEGER NOT NULL DEFAULT 0,
    last_kind    TEXT NOT NULL,
    first_at     @TIME@ NOT NULL,
    last_at      @TIME@ NOT NULL,
    asked_at     @TIME@,
    answered_at  @TIME@,
    closed_at    @TIME@,
    created_at   @TIME@ NOT NULL,
    updated_at   @TIME@ NOT NULL
);
CREATE INDEX fraud_cases_list ON fraud_cases (status, last_at, id);
CREATE INDEX fraud_cases_last ON fraud_cases (last_at, id);
CREATE INDEX fraud_cases_customer ON fraud_cases (customer_id);
CREATE INDEX fraud_cases_order ON fraud_cases (order_id);
CREATE INDEX fraud_cases_license ON fraud_cases (license_id);
CREATE INDEX fraud_cases_updated ON fraud_cases (updated_at);

-- One row per observation. source is the observation's identity (the
-- processor's event, the pattern's window): raising it again changes
-- nothing. facts is a JSON list of {"name", "value"} figures.
CREATE TABLE fraud_signals (
    id           @ID@,
    case_id      BIGINT NOT NULL REFERENCES fraud_cases (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    source       TEXT NOT NULL UNIQUE,
    summary      TEXT NOT NULL,
    facts        TEXT NOT NULL DEFAULT '[]',
    customer_id  BIGINT,
    order_id     BIGINT,
    license_id   BIGINT,
    observed_at  @TIME@ NOT NULL
);
CREATE INDEX fraud_signals_case ON fraud_signals (case_id, observed_at);
CREATE INDEX fraud_signals_kind ON fraud_signals (kind, case_id);
CREATE INDEX fraud_signals_customer ON fraud_signals (customer_id);

-- +goose Down
DROP TABLE fraud_signals;
DROP TABLE fraud_cases;
