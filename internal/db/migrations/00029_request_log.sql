-- The request log (internal/requestlog, docs/request-log.md): one row per
-- page request of the site, written in batches off the request path. Log
-- data: the route pattern (never the path as typed, never a query
-- string), the status, the browser's family, major version and device
-- class (the raw user agent is not stored), the referring site's host
-- when it is another site, and the network address, which the purge
-- truncates to its network after --log-address-days and deletes with the
-- row after the retention period.

-- +goose Up
CREATE TABLE request_log (
    id              @ID@,
    at              @TIME@ NOT NULL,
    route           TEXT NOT NULL,
    status          INTEGER NOT NULL,
    browser         TEXT NOT NULL DEFAULT '',
    browser_version TEXT NOT NULL DEFAULT '',
    device          TEXT NOT NULL DEFAULT '',
    referrer_host   TEXT NOT NULL DEFAULT '',
    network         TEXT NOT NULL DEFAULT '' -- the full address until the purge truncates it to its network (a "/" in it)
);
CREATE INDEX request_log_at ON request_log (at);

-- +goose Down
DROP TABLE request_log;
