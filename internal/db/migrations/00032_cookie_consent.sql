-- Cookie consent records (docs/cookies.md): one row each time a browser's
-- choice about optional cookies is made or changed, so that we can show
-- which cookies we were allowed to set. Written only when the cookie
-- registry holds an optional cookie; with strictly necessary cookies only
-- (every cookie today) no banner is shown and nothing is written.
--
-- A row holds the random id the browser's consent cookie carries, when,
-- what was done (accept all, reject all, a choice per category), the
-- choice per category (NULL: the category was not offered) and the
-- version of the cookie policy that described the cookies. Nothing else
-- about the person: no address, no user agent, no account.

-- +goose Up
CREATE TABLE cookie_consents (
    id          @ID@,
    consent_id  TEXT NOT NULL UNIQUE,
    given_at    @TIME@ NOT NULL,
    policy_seq  INTEGER NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('accept_all', 'reject_all', 'choose')),
    preferences @BOOL@,
    statistics  @BOOL@,
    marketing   @BOOL@
);
CREATE INDEX cookie_consents_given_at ON cookie_consents (given_at);

-- +goose Down
DROP TABLE cookie_consents;
