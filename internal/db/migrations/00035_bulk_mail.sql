-- What became of bulk mail after it left (issue 15, docs/mailing.md):
-- bounces and complaints per outbox message, found by the inbound mail
-- listener from delivery status notifications and feedback reports; and
-- every unsubscribe, with the time it was processed (mailbox providers
-- require one-click unsubscribes to be honoured within two days, and the
-- record shows they were).

-- +goose Up
ALTER TABLE outbox ADD COLUMN bounced_at @TIME@;
ALTER TABLE outbox ADD COLUMN bounce_kind TEXT NOT NULL DEFAULT '';   -- '', 'hard', 'soft'
ALTER TABLE outbox ADD COLUMN bounce_detail TEXT NOT NULL DEFAULT ''; -- the DSN's status and diagnostic, no message text
ALTER TABLE outbox ADD COLUMN complained_at @TIME@;

-- One row per unsubscribe processed (internal/unsubscribe tokens): who,
-- from what, how, when. customer_id or subscriber_id, as in the token.
CREATE TABLE unsubscribes (
    id            @ID@,
    processed_at  @TIME@ NOT NULL,
    customer_id   BIGINT,
    subscriber_id BIGINT,
    purpose       TEXT NOT NULL,
    list_id       BIGINT,
    notice_recipient_id BIGINT,
    via           TEXT NOT NULL CHECK (via IN ('one-click', 'page', 'mailto', 'account'))
);
CREATE INDEX unsubscribes_customer ON unsubscribes (customer_id);
CREATE INDEX unsubscribes_subscriber ON unsubscribes (subscriber_id);
CREATE INDEX unsubscribes_notice ON unsubscribes (notice_recipient_id);

-- +goose Down
DROP TABLE unsubscribes;
ALTER TABLE outbox DROP COLUMN complained_at;
ALTER TABLE outbox DROP COLUMN bounce_detail;
ALTER TABLE outbox DROP COLUMN bounce_kind;
ALTER TABLE outbox DROP COLUMN bounced_at;
