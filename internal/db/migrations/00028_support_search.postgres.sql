-- Word search of the support desk (internal/support, Search): GIN indexes
-- on the 'simple' text search vectors of the tickets' subjects and the
-- messages' text (no stemming, no stop words: the words as written, matched
-- by prefix). SQLite has FTS5 tables instead
-- (00028_support_search.sqlite.sql).

-- +goose Up
CREATE INDEX support_messages_text_fts ON support_messages USING gin (to_tsvector('simple', body_text));
CREATE INDEX support_tickets_subject_fts ON support_tickets USING gin (to_tsvector('simple', subject));

-- +goose Down
DROP INDEX support_tickets_subject_fts;
DROP INDEX support_messages_text_fts;
