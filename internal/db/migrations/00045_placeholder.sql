-- Placeholder so that the copy's migration (00046) follows a gapless
-- sequence on this branch; drop it at merge (00045 belongs to another
-- branch).

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
