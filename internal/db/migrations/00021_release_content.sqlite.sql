-- The product page links to a release's email-gated download when the
-- product has one (internal/web/trials), so publishing, yanking or gating
-- a release changes what the public pages show: bump content_version
-- (migration 00014) with every change of releases, as the catalog does.

-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER releases_content_i AFTER INSERT ON releases BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER releases_content_u AFTER UPDATE ON releases BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER releases_content_d AFTER DELETE ON releases BEGIN UPDATE content_version SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER releases_content_d;
DROP TRIGGER releases_content_u;
DROP TRIGGER releases_content_i;
