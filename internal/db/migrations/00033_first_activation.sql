-- When a license was first activated (a machine took a seat for the first
-- time). Seats are freed and machines deleted later; the first activation
-- stays, for the analytics' funnel (internal/analytics: paid orders whose
-- license was activated, counted by the order's day).

-- +goose Up
ALTER TABLE licenses ADD COLUMN first_activated_at @TIME@;
UPDATE licenses SET first_activated_at = (SELECT MIN(m.activated_at) FROM license_machines m WHERE m.license_id = licenses.id);

-- +goose Down
ALTER TABLE licenses DROP COLUMN first_activated_at;
