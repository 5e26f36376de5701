-- content_version counts changes to what the public pages show: the
-- catalog, the vendor's settings and the policy versions. Triggers bump it
-- in the transaction of the change itself, so every instance's page cache
-- (internal/web/site) sees a change the moment it commits, whichever code
-- path or process made it. SQLite has row triggers only; a change of many
-- rows bumps it many times, which is as good as once.

-- +goose Up
CREATE TABLE content_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO content_version (id, n) VALUES (1, 1);

-- +goose StatementBegin
CREATE TRIGGER products_content_i AFTER INSERT ON products BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER products_content_u AFTER UPDATE ON products BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER products_content_d AFTER DELETE ON products BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER editions_content_i AFTER INSERT ON editions BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER editions_content_u AFTER UPDATE ON editions BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER editions_content_d AFTER DELETE ON editions BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER prices_content_i AFTER INSERT ON prices BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER prices_content_u AFTER UPDATE ON prices BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER prices_content_d AFTER DELETE ON prices BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER settings_content_i AFTER INSERT ON settings BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER settings_content_u AFTER UPDATE ON settings BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER settings_content_d AFTER DELETE ON settings BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER policy_versions_content_i AFTER INSERT ON policy_versions BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER policy_versions_content_u AFTER UPDATE ON policy_versions BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER policy_versions_content_d AFTER DELETE ON policy_versions BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER products_content_i;
DROP TRIGGER products_content_u;
DROP TRIGGER products_content_d;
DROP TRIGGER editions_content_i;
DROP TRIGGER editions_content_u;
DROP TRIGGER editions_content_d;
DROP TRIGGER prices_content_i;
DROP TRIGGER prices_content_u;
DROP TRIGGER prices_content_d;
DROP TRIGGER settings_content_i;
DROP TRIGGER settings_content_u;
DROP TRIGGER settings_content_d;
DROP TRIGGER policy_versions_content_i;
DROP TRIGGER policy_versions_content_u;
DROP TRIGGER policy_versions_content_d;
DROP TABLE content_version;
