-- The product page links to a release's email-gated download when the
-- product has one (internal/web/trials), so publishing, yanking or gating
-- a release changes what the public pages show: bump content_version
-- (migration 00014) with every change of releases, as the catalog does.

-- +goose Up
CREATE TRIGGER releases_content AFTER INSERT OR UPDATE OR DELETE ON releases
    FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();

-- +goose Down
DROP TRIGGER releases_content ON releases;
