-- The renewal reminders (hourly, on every instance) look for licenses
-- expiring within 30 days: an index on the expiry reads only those, not
-- every license.

-- +goose Up
CREATE INDEX licenses_expiry ON licenses (expires_at);

-- +goose Down
DROP INDEX licenses_expiry;
