-- Word search of the support desk (internal/support, Search): full-text
-- indexes of the tickets' subjects and the messages' text. Both are
-- external-content FTS5 tables: they hold no copy of the text, only its
-- index, kept in step by triggers, so erasing or purging a row removes it
-- from the index too. internal/db's Schema leaves FTS tables out: they are
-- indexes of the tables they are built on (PostgreSQL has GIN indexes on
-- tsvectors instead, 00028_support_search.postgres.sql).

-- +goose Up
CREATE VIRTUAL TABLE support_messages_fts USING fts5(body_text, content='support_messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE support_tickets_fts USING fts5(subject, content='support_tickets', content_rowid='id', tokenize='unicode61 remove_diacritics 2');

-- +goose StatementBegin
CREATE TRIGGER support_messages_fts_ai AFTER INSERT ON support_messages BEGIN
    INSERT INTO support_messages_fts (rowid, body_text) VALUES (new.id, new.body_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER support_messages_fts_ad AFTER DELETE ON support_messages BEGIN
    INSERT INTO support_messages_fts (support_messages_fts, rowid, body_text) VALUES ('delete', old.id, old.body_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER support_messages_fts_au AFTER UPDATE OF body_text ON support_messages BEGIN
    INSERT INTO support_messages_fts (support_messages_fts, rowid, body_text) VALUES ('delete', old.id, old.body_text);
    INSERT INTO support_messages_fts (rowid, body_text) VALUES (new.id, new.body_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER support_tickets_fts_ai AFTER INSERT ON support_tickets BEGIN
    INSERT INTO support_tickets_fts (rowid, subject) VALUES (new.id, new.subject);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER support_tickets_fts_ad AFTER DELETE ON support_tickets BEGIN
    INSERT INTO support_tickets_fts (support_tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER support_tickets_fts_au AFTER UPDATE OF subject ON support_tickets BEGIN
    INSERT INTO support_tickets_fts (support_tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject);
    INSERT INTO support_tickets_fts (rowid, subject) VALUES (new.id, new.subject);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER support_tickets_fts_au;
DROP TRIGGER support_tickets_fts_ad;
DROP TRIGGER support_tickets_fts_ai;
DROP TRIGGER support_messages_fts_au;
DROP TRIGGER support_messages_fts_ad;
DROP TRIGGER support_messages_fts_ai;
DROP TABLE support_tickets_fts;
DROP TABLE support_messages_fts;
