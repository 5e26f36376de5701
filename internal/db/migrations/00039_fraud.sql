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
    contested_at @TIME@,                   -- the customer contested the decision that closed the case
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

-- What staff asked the customer and what the customer answered. The
-- customer answers on a page of their account, signed in; the mail only
-- points there. outbox_id is the question's mail.
CREATE TABLE fraud_messages (
    id           @ID@,
    case_id      BIGINT NOT NULL REFERENCES fraud_cases (id) ON DELETE CASCADE,
    direction    TEXT NOT NULL CHECK (direction IN ('question', 'answer')),
    body         TEXT NOT NULL,
    staff_id     BIGINT,
    outbox_id    BIGINT,
    created_at   @TIME@ NOT NULL
);
CREATE INDEX fraud_messages_case ON fraud_messages (case_id, created_at);

-- A staff member's decision on a case, with why; reversed_* record who
-- took it back and why. form_token makes a double submit of the same
-- form one decision. notice_outbox_id is the mail that told the customer.
CREATE TABLE fraud_decisions (
    id               @ID@,
    case_id          BIGINT NOT NULL REFERENCES fraud_cases (id) ON DELETE CASCADE,
    action           TEXT NOT NULL CHECK (action IN ('no_action', 'refund', 'suspend_license', 'revoke_access', 'block_purchase')),
    order_id         BIGINT,
    license_id       BIGINT,
    reason           TEXT NOT NULL,
    staff_id         BIGINT NOT NULL,
    form_token       TEXT NOT NULL UNIQUE,
    objection_seen   INTEGER NOT NULL DEFAULT 0,
    notice_outbox_id BIGINT,
    notice_note      TEXT NOT NULL DEFAULT '',
    created_at       @TIME@ NOT NULL,
    reversed_at      @TIME@,
    reversed_by      BIGINT,
    reverse_reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX fraud_decisions_case ON fraud_decisions (case_id, created_at);
CREATE INDEX fraud_decisions_created ON fraud_decisions (created_at);

-- What a decision holds back while it stands: a license's downloads and
-- repositories (revoke_access), or a customer's next purchase
-- (block_purchase). Lifted when the decision is reversed.
CREATE TABLE fraud_holds (
    id           @ID@,
    decision_id  BIGINT NOT NULL REFERENCES fraud_decisions (id) ON DELETE CASCADE,
    scope        TEXT NOT NULL CHECK (scope IN ('access', 'purchase')),
    license_id   BIGINT,
    customer_id  BIGINT,
    created_at   @TIME@ NOT NULL,
    lifted_at    @TIME@
);
CREATE INDEX fraud_holds_license ON fraud_holds (license_id, scope);
CREATE INDEX fraud_holds_customer ON fraud_holds (customer_id, scope);
CREATE INDEX fraud_holds_decision ON fraud_holds (decision_id);

-- +goose Down
DROP TABLE fraud_holds;
DROP TABLE fraud_decisions;
DROP TABLE fraud_messages;
DROP TABLE fraud_signals;
DROP TABLE fraud_cases;
