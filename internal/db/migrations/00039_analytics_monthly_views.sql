-- The months of analytics_monthly in order of their views (issue 14,
-- docs/analytics-dashboard.md, "How long ranges stay quick"): a short top
-- list over a long range reads each month's most viewed values from the
-- top down, K of them, instead of every value of the month
-- (internal/analytics/report/bounds.go). value is in the index so that
-- those reads need no row of the table, and in the order the report ties
-- values with the same views.

-- +goose Up
CREATE INDEX analytics_monthly_views ON analytics_monthly (dim, month, views DESC, value);

-- +goose Down
DROP INDEX analytics_monthly_views;
