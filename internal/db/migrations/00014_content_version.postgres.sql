-- content_version counts changes to what the public pages show: the
-- catalog, the vendor's settings and the policy versions. Statement
-- triggers bump it in the transaction of the change itself, whichever code
-- path, instance or process made it, and NOTIFY storekeep_content, which
-- PostgreSQL delivers to every listening instance when the transaction
-- commits (internal/db/content.go; the page cache of internal/web/site).
-- Two transactions changing content at once serialise on the row; both
-- bumps count.

-- +goose Up
CREATE TABLE content_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO content_version (id, n) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION bump_content_version() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE content_version SET n = n + 1 WHERE id = 1;
    PERFORM pg_notify('storekeep_content', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER products_content AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();
CREATE TRIGGER editions_content AFTER INSERT OR UPDATE OR DELETE ON editions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();
CREATE TRIGGER prices_content AFTER INSERT OR UPDATE OR DELETE ON prices
    FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();
CREATE TRIGGER settings_content AFTER INSERT OR UPDATE OR DELETE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();
CREATE TRIGGER policy_versions_content AFTER INSERT OR UPDATE OR DELETE ON policy_versions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();

-- +goose Down
DROP TRIGGER products_content ON products;
DROP TRIGGER editions_content ON editions;
DROP TRIGGER prices_content ON prices;
DROP TRIGGER settings_content ON settings;
DROP TRIGGER policy_versions_content ON policy_versions;
DROP FUNCTION bump_content_version();
DROP TABLE content_version;
