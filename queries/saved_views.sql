-- ViewUpsert creates or replaces a saved view; EXCLUDED.updated_at is the
-- inserted row's default, now() (Citus refuses now() itself in DO UPDATE
-- SET).
-- name: ViewUpsert :one
INSERT INTO saved_views (tenant_id, user_id, name, columns, filters, sort)
VALUES (@tenant_id, @user_id, @name, @columns, @filters, @sort)
ON CONFLICT ON CONSTRAINT saved_views_pkey DO UPDATE
SET columns = EXCLUDED.columns, filters = EXCLUDED.filters, sort = EXCLUDED.sort, updated_at = EXCLUDED.updated_at
RETURNING *, (xmax = 0) AS inserted;

-- name: ViewGet :one
SELECT * FROM saved_views WHERE tenant_id = @tenant_id AND user_id = @user_id AND name = @name;

-- name: ViewList :many
SELECT * FROM saved_views WHERE tenant_id = @tenant_id AND user_id = @user_id ORDER BY name LIMIT 500;

-- name: ViewDelete :execrows
DELETE FROM saved_views WHERE tenant_id = @tenant_id AND user_id = @user_id AND name = @name;
