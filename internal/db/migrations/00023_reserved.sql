-- Number 00023 is reserved for the tax branch's migration, which was not
-- merged when refunds (00024) were written: migrations are numbered without
-- gaps. When both are merged, that branch's 00023 replaces this file.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
