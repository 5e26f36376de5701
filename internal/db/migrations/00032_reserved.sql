-- Number 00032 is reserved for the cookie consent branch's migration, which
-- was not merged when 00033 was written: migrations are numbered without
-- gaps. When that branch is merged, its 00032 replaces this file.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
