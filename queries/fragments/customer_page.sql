-- customer_page is the customer list's keyset and order: the rows after
-- the cursor (after_*: the last row's sort key and id) in the order of
-- @sort, ties broken by id. CustomerList and CustomerExportPage share it
-- (make generate copies it, as customer_filter). With custom plans the
-- CASE keys fold to the one chosen column, so the plan is the one a
-- hand-written query for that sort would get, using the
-- (tenant_id, <sort column>, id) indexes in either direction.

AND (sqlc.narg(after_id)::uuid IS NULL
     OR (@sort::text = 'name' AND (c.name, c.id) > (sqlc.narg(after_text)::text, sqlc.narg(after_id)::uuid))
     OR (@sort::text = '-name' AND (c.name, c.id) < (sqlc.narg(after_text)::text, sqlc.narg(after_id)::uuid))
     OR (@sort::text = 'code' AND (c.code, c.id) > (sqlc.narg(after_text)::text, sqlc.narg(after_id)::uuid))
     OR (@sort::text = '-code' AND (c.code, c.id) < (sqlc.narg(after_text)::text, sqlc.narg(after_id)::uuid))
     OR (@sort::text = 'balance' AND (c.balance, c.id) > (sqlc.narg(after_num)::numeric, sqlc.narg(after_id)::uuid))
     OR (@sort::text = '-balance' AND (c.balance, c.id) < (sqlc.narg(after_num)::numeric, sqlc.narg(after_id)::uuid))
     OR (@sort::text = 'total_order_value' AND (c.total_order_value, c.id) > (sqlc.narg(after_num)::numeric, sqlc.narg(after_id)::uuid))
     OR (@sort::text = '-total_order_value' AND (c.total_order_value, c.id) < (sqlc.narg(after_num)::numeric, sqlc.narg(after_id)::uuid))
     OR (@sort::text = 'last_order_at' AND (coalesce(c.last_order_at, '-infinity'::timestamptz), c.id) > (coalesce(sqlc.narg(after_ts)::timestamptz, '-infinity'::timestamptz), sqlc.narg(after_id)::uuid))
     OR (@sort::text = '-last_order_at' AND (coalesce(c.last_order_at, '-infinity'::timestamptz), c.id) < (coalesce(sqlc.narg(after_ts)::timestamptz, '-infinity'::timestamptz), sqlc.narg(after_id)::uuid))
     OR (@sort::text = 'updated_at' AND (c.updated_at, c.id) > (sqlc.narg(after_ts)::timestamptz, sqlc.narg(after_id)::uuid))
     OR (@sort::text = '-updated_at' AND (c.updated_at, c.id) < (sqlc.narg(after_ts)::timestamptz, sqlc.narg(after_id)::uuid))
     OR (@sort::text = 'created_at' AND (c.created_at, c.id) > (sqlc.narg(after_ts)::timestamptz, sqlc.narg(after_id)::uuid))
     OR (@sort::text = '-created_at' AND (c.created_at, c.id) < (sqlc.narg(after_ts)::timestamptz, sqlc.narg(after_id)::uuid)))
ORDER BY
  CASE WHEN @sort::text = 'name' THEN c.name END ASC,
  CASE WHEN @sort::text = '-name' THEN c.name END DESC,
  CASE WHEN @sort::text = 'code' THEN c.code END ASC,
  CASE WHEN @sort::text = '-code' THEN c.code END DESC,
  CASE WHEN @sort::text = 'balance' THEN c.balance END ASC,
  CASE WHEN @sort::text = '-balance' THEN c.balance END DESC,
  CASE WHEN @sort::text = 'total_order_value' THEN c.total_order_value END ASC,
  CASE WHEN @sort::text = '-total_order_value' THEN c.total_order_value END DESC,
  CASE WHEN @sort::text = 'last_order_at' THEN coalesce(c.last_order_at, '-infinity'::timestamptz) END ASC,
  CASE WHEN @sort::text = '-last_order_at' THEN coalesce(c.last_order_at, '-infinity'::timestamptz) END DESC,
  CASE WHEN @sort::text = 'updated_at' THEN c.updated_at END ASC,
  CASE WHEN @sort::text = '-updated_at' THEN c.updated_at END DESC,
  CASE WHEN @sort::text = 'created_at' THEN c.created_at END ASC,
  CASE WHEN @sort::text = '-created_at' THEN c.created_at END DESC,
  CASE WHEN left(@sort::text, 1) <> '-' THEN c.id END ASC,
  CASE WHEN left(@sort::text, 1) = '-' THEN c.id END DESC
