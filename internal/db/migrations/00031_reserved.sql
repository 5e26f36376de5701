-- Number 00031 is reserved for the analytics branch's migration, which was
-- not merged when cookie consent (00032) was written: migrations are
-- numbered without gaps. When both are merged, that branch's 00031
-- replaces this file.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
