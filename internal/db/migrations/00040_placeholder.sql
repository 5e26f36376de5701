-- Placeholder so that 00043 (policy archive) runs on a gapless sequence:
-- the other branches of issue 17 take these numbers. Drop at merge.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
