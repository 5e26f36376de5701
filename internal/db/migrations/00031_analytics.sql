-- Usage analytics (internal/analytics, docs/analytics.md). Visits are
-- counted without cookies: a visitor is a keyed hash of address, user
-- agent and site under the day's salt, which lives only in the instances'
-- memory (internal/analytics/salt, migration 00030). Raw events are kept
-- for two days, until the roll-up has turned them into the daily
-- aggregates, and are declared in the data inventory; the aggregates hold
-- counts only and are kept.

-- +goose Up
-- One row per page view a beacon reported. view is the page view's random
-- identifier, made by the script for this page load only (a replay of the
-- same view is a second row, counted once by the roll-up: a unique index
-- on random identifiers made every insert slower as the table grew, and
-- the indexes here are all in the order rows arrive). visitor is the keyed hash, meaningless once the
-- day's salt is gone. path is the page's path for public pages, never a
-- query string; the campaign parameters are kept apart.
CREATE TABLE analytics_views (
    id            @ID@,
    day           TEXT NOT NULL,   -- YYYY-MM-DD, UTC
    at            @TIME@ NOT NULL,
    view          TEXT NOT NULL,
    visitor       BIGINT NOT NULL,
    path          TEXT NOT NULL,
    referrer_host TEXT NOT NULL DEFAULT '',
    utm_source    TEXT NOT NULL DEFAULT '',
    utm_medium    TEXT NOT NULL DEFAULT '',
    utm_campaign  TEXT NOT NULL DEFAULT '',
    browser       TEXT NOT NULL DEFAULT '',
    device        TEXT NOT NULL DEFAULT '',
    screen        TEXT NOT NULL DEFAULT '',
    country       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX analytics_views_day ON analytics_views (day);
CREATE INDEX analytics_views_at ON analytics_views (at);

-- Engaged time (page visible and focused) a beacon reported for a view,
-- in milliseconds; a view may report several times (the page hidden and
-- shown again), the roll-up takes the largest.
CREATE TABLE analytics_engaged (
    id   @ID@,
    day  TEXT NOT NULL,
    at   @TIME@ NOT NULL,
    view TEXT NOT NULL,
    ms   BIGINT NOT NULL
);
CREATE INDEX analytics_engaged_day ON analytics_engaged (day);
CREATE INDEX analytics_engaged_at ON analytics_engaged (at);

-- The daily aggregates, one row per day and dimension value: dim is
-- 'total' (value ''), 'page' (a path), 'referrer' (a host, '' for none),
-- 'utm_source', 'utm_medium', 'utm_campaign', 'browser', 'device',
-- 'screen' or 'country'. visitors are the day's distinct visitors with
-- that value (a visitor on two days counts on both: the salt changes).
-- entries and exits count visitors whose first or last view of the day
-- had that value; engaged_ms sums the engaged time of engaged_views views.
CREATE TABLE analytics_daily (
    dim           TEXT NOT NULL,
    day           TEXT NOT NULL,
    value         TEXT NOT NULL,
    views         BIGINT NOT NULL DEFAULT 0,
    visitors      BIGINT NOT NULL DEFAULT 0,
    entries       BIGINT NOT NULL DEFAULT 0,
    exits         BIGINT NOT NULL DEFAULT 0,
    bounces       BIGINT NOT NULL DEFAULT 0,
    engaged_ms    BIGINT NOT NULL DEFAULT 0,
    engaged_views BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, day, value)
);

-- The funnel a vendor needs, per day and product (product '' for all
-- products): visitors who viewed the product's page, those of them who
-- went on to the checkout the same day, the orders for it placed that day
-- and paid, and the licenses of those orders activated at least once.
-- Orders and activations are counted from the shop's own records by the
-- day the order was placed: nothing links a page view to an order.
CREATE TABLE analytics_funnel (
    day               TEXT NOT NULL,
    product           TEXT NOT NULL,
    product_visitors  BIGINT NOT NULL DEFAULT 0,
    checkout_visitors BIGINT NOT NULL DEFAULT 0,
    orders_paid       BIGINT NOT NULL DEFAULT 0,
    activated         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, product)
);

-- +goose Down
DROP TABLE analytics_funnel;
DROP TABLE analytics_daily;
DROP TABLE analytics_engaged;
DROP TABLE analytics_views;
