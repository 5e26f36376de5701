-- Placeholder so that the breaches migration (00042) follows a gapless
-- sequence on this branch; drop it at merge and renumber 00042.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
