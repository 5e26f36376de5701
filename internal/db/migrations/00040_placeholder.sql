-- Placeholder so that the accountability migration (00041) follows a
-- gapless sequence on this branch; drop it at merge and renumber 00041.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
