-- Monthly usage-analytics aggregates (internal/analytics, docs/analytics.md,
-- "The roll-up"): the sums of analytics_daily per calendar month, so that
-- the dashboard's top lists over a long range read one row per value and
-- month instead of one per value and day (docs/benchmarks.md, "Analytics
-- dashboard at 10 million page views"). The roll-up recounts a month from
-- its days every time it rolls up one of them, in the same transaction, so
-- a month always equals the sum of its days. Counts only, like
-- analytics_daily; visitors are still visitor-days.

-- +goose Up
CREATE TABLE analytics_monthly (
    dim           TEXT NOT NULL,
    month         TEXT NOT NULL,   -- YYYY-MM, UTC
    value         TEXT NOT NULL,
    views         BIGINT NOT NULL DEFAULT 0,
    visitors      BIGINT NOT NULL DEFAULT 0,
    entries       BIGINT NOT NULL DEFAULT 0,
    exits         BIGINT NOT NULL DEFAULT 0,
    bounces       BIGINT NOT NULL DEFAULT 0,
    engaged_ms    BIGINT NOT NULL DEFAULT 0,
    engaged_views BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, month, value)
);

-- The months already counted, from their days.
INSERT INTO analytics_monthly (dim, month, value, views, visitors, entries, exits, bounces, engaged_ms, engaged_views)
SELECT dim, substr(day, 1, 7), value, sum(views), sum(visitors), sum(entries), sum(exits), sum(bounces), sum(engaged_ms), sum(engaged_views)
FROM analytics_daily GROUP BY dim, substr(day, 1, 7), value;

-- +goose Down
DROP TABLE analytics_monthly;
