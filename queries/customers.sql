-- CustomerInsert returns no row when the code is already taken in the
-- tenant; the unique check sees every row of the tenant, including those
-- the caller cannot see. A new customer's reach is its rep and its own
-- portal key (migration 000010).
-- name: CustomerInsert :one
INSERT INTO customers (
    tenant_id, id, code, name, kind, type, contact_name, email, phone, website, tax_number, currency,
    discount_rate, payment_terms_id, default_payment_method, tax_scheme, price_list_id, credit_limit,
    credit_period_days, credit_policy, billing_status, basis_date, sales_rep_id, status, notes, custom, reach
) VALUES (
    @tenant_id, @id, @code, @name, @kind, @type, sqlc.narg(contact_name), sqlc.narg(email), sqlc.narg(phone),
    sqlc.narg(website), sqlc.narg(tax_number), sqlc.narg(currency), sqlc.narg(discount_rate),
    sqlc.narg(payment_terms_id), sqlc.narg(default_payment_method), sqlc.narg(tax_scheme),
    sqlc.narg(price_list_id), sqlc.narg(credit_limit), sqlc.narg(credit_period_days), sqlc.narg(credit_policy),
    sqlc.narg(billing_status), sqlc.narg(basis_date), sqlc.narg(sales_rep_id), @status, sqlc.narg(notes), @custom,
    reach_norm(ARRAY[@id::uuid, sqlc.narg(sales_rep_id)::uuid])
)
ON CONFLICT ON CONSTRAINT customers_code_key DO NOTHING
RETURNING *;

-- name: CustomerGetByID :one
SELECT * FROM customers WHERE tenant_id = @tenant_id AND id = @id;

-- CustomerGetByIDWithGroups is CustomerGetByID with the customer's group
-- memberships (the customer_memberships fragment) in the same statement:
-- the read behind every customer the API shows.
-- name: CustomerGetByIDWithGroups :one
SELECT sqlc.embed(c),
  -- fragment: customer_memberships (generated from queries/fragments/customer_memberships.sql: edit it there and run make generate)
  coalesce((
      SELECT jsonb_agg(jsonb_build_object(
          'category', m.category, 'category_name', gc.name, 'category_position', gc.position,
          'group_id', g.id, 'code', g.code, 'name', g.name,
          'price_list_id', g.price_list_id, 'payment_terms_id', g.payment_terms_id,
          'credit_limit', g.credit_limit, 'credit_days', g.credit_days, 'discount_rate', g.discount_rate)
          ORDER BY gc.position, gc.key)
      FROM customer_group_members m
      JOIN customer_groups g ON g.tenant_id = @tenant_id AND g.id = m.group_id
      JOIN group_categories gc ON gc.tenant_id = @tenant_id AND gc.key = m.category
      WHERE m.tenant_id = @tenant_id AND m.customer_id = c.id), '[]')::jsonb AS groups
  -- end fragment: customer_memberships
FROM customers c
WHERE c.tenant_id = @tenant_id AND c.id = @id;

-- name: CustomerGetByIDForUpdate :one
SELECT * FROM customers WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- name: CustomerUpdate :one
UPDATE customers SET
    code = @code, name = @name, kind = @kind, type = @type, contact_name = sqlc.narg(contact_name),
    email = sqlc.narg(email), phone = sqlc.narg(phone), website = sqlc.narg(website),
    tax_number = sqlc.narg(tax_number), currency = sqlc.narg(currency), discount_rate = sqlc.narg(discount_rate),
    payment_terms_id = sqlc.narg(payment_terms_id), default_payment_method = sqlc.narg(default_payment_method),
    tax_scheme = sqlc.narg(tax_scheme), price_list_id = sqlc.narg(price_list_id),
    credit_limit = sqlc.narg(credit_limit), credit_period_days = sqlc.narg(credit_period_days),
    credit_policy = sqlc.narg(credit_policy), billing_status = sqlc.narg(billing_status),
    basis_date = sqlc.narg(basis_date), sales_rep_id = sqlc.narg(sales_rep_id), status = @status,
    notes = sqlc.narg(notes), custom = @custom,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- name: CustomerDelete :execrows
DELETE FROM customers WHERE tenant_id = @tenant_id AND id = @id;

-- CustomerList is the customer list: every filter, search and sort of
-- GET /v1/customers in one statement, the filter and the keyset written
-- once in queries/fragments (customer_filter, customer_page; make
-- generate copies them here). Its plan depends on the values (the filters
-- and the sort asked for): its callers run it with custom plans
-- (database.CustomPlans), and for a common search term with the planner
-- told to walk the sort's index (CustomerPreferIndexOrder). Each row
-- brings the customer's group memberships (customer_memberships).
-- name: CustomerList :many
SELECT sqlc.embed(c),
  -- fragment: customer_memberships (generated from queries/fragments/customer_memberships.sql: edit it there and run make generate)
  coalesce((
      SELECT jsonb_agg(jsonb_build_object(
          'category', m.category, 'category_name', gc.name, 'category_position', gc.position,
          'group_id', g.id, 'code', g.code, 'name', g.name,
          'price_list_id', g.price_list_id, 'payment_terms_id', g.payment_terms_id,
          'credit_limit', g.credit_limit, 'credit_days', g.credit_days, 'discount_rate', g.discount_rate)
          ORDER BY gc.position, gc.key)
      FROM customer_group_members m
      JOIN customer_groups g ON g.tenant_id = @tenant_id AND g.id = m.group_id
      JOIN group_categories gc ON gc.tenant_id = @tenant_id AND gc.key = m.category
      WHERE m.tenant_id = @tenant_id AND m.customer_id = c.id), '[]')::jsonb AS groups
  -- end fragment: customer_memberships
FROM customers c
WHERE
  -- fragment: customer_filter (generated from queries/fragments/customer_filter.sql: edit it there and run make generate)
  c.tenant_id = @tenant_id
  AND (sqlc.narg(scope_user_id)::uuid IS NULL OR c.reach @> ARRAY[sqlc.narg(scope_user_id)::uuid])
  AND (sqlc.narg(scope_customer_id)::uuid IS NULL OR c.id = sqlc.narg(scope_customer_id)::uuid)
  AND (sqlc.narg(search_ids)::uuid[] IS NULL OR c.id = ANY (sqlc.narg(search_ids)::uuid[]))
  AND (sqlc.narg(search_like)::text IS NULL OR c.search_text LIKE sqlc.narg(search_like)::text)
  AND c.status = ANY (@statuses::text[])
  AND (sqlc.narg(type)::text IS NULL OR c.type = sqlc.narg(type)::text)
  AND (sqlc.narg(kind)::text IS NULL OR c.kind = sqlc.narg(kind)::text)
  AND (sqlc.narg(sales_rep_id)::uuid IS NULL OR c.sales_rep_id = sqlc.narg(sales_rep_id)::uuid)
  AND (sqlc.narg(payment_terms_id)::uuid IS NULL OR c.payment_terms_id = sqlc.narg(payment_terms_id)::uuid)
  AND (sqlc.narg(billing_status)::text IS NULL OR c.billing_status = sqlc.narg(billing_status)::text)
  AND (sqlc.narg(country)::text IS NULL OR c.country = sqlc.narg(country)::text)
  AND (sqlc.narg(has_balance)::boolean IS NULL OR (c.balance > 0) = sqlc.narg(has_balance)::boolean)
  AND (sqlc.narg(has_credit)::boolean IS NULL OR (c.balance < 0) = sqlc.narg(has_credit)::boolean)
  AND (sqlc.narg(overdue)::boolean IS NULL OR (c.overdue_amount > 0) = sqlc.narg(overdue)::boolean)
  AND (sqlc.narg(last_order_from)::timestamptz IS NULL OR c.last_order_at >= sqlc.narg(last_order_from)::timestamptz)
  AND (sqlc.narg(last_order_to)::timestamptz IS NULL OR c.last_order_at < sqlc.narg(last_order_to)::timestamptz)
  AND (sqlc.narg(engaged)::boolean IS NULL
       OR (c.last_order_at IS NOT NULL AND c.last_order_at >= now() - interval '365 days') = sqlc.narg(engaged)::boolean)
  AND (sqlc.narg(custom)::jsonb IS NULL OR c.custom @> sqlc.narg(custom)::jsonb)
  AND (cardinality(@group_filters::text[]) = 0
       OR cardinality(@group_filters::text[]) = (
           SELECT count(*) FROM customer_group_members m
           JOIN customer_groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
           WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id
             AND m.category || ':' || g.code = ANY (@group_filters::text[])))
  -- end fragment: customer_filter
  -- fragment: customer_page (generated from queries/fragments/customer_page.sql: edit it there and run make generate)
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
  -- end fragment: customer_page
LIMIT @row_limit;

-- CustomerCount counts what CustomerList lists (the same filter, without
-- the cursor), up to @cap rows: a large cap for count=exact, 10,001 for
-- count=estimated.
-- name: CustomerCount :one
SELECT count(*) FROM (
SELECT 1 FROM customers c
WHERE
  -- fragment: customer_filter (generated from queries/fragments/customer_filter.sql: edit it there and run make generate)
  c.tenant_id = @tenant_id
  AND (sqlc.narg(scope_user_id)::uuid IS NULL OR c.reach @> ARRAY[sqlc.narg(scope_user_id)::uuid])
  AND (sqlc.narg(scope_customer_id)::uuid IS NULL OR c.id = sqlc.narg(scope_customer_id)::uuid)
  AND (sqlc.narg(search_ids)::uuid[] IS NULL OR c.id = ANY (sqlc.narg(search_ids)::uuid[]))
  AND (sqlc.narg(search_like)::text IS NULL OR c.search_text LIKE sqlc.narg(search_like)::text)
  AND c.status = ANY (@statuses::text[])
  AND (sqlc.narg(type)::text IS NULL OR c.type = sqlc.narg(type)::text)
  AND (sqlc.narg(kind)::text IS NULL OR c.kind = sqlc.narg(kind)::text)
  AND (sqlc.narg(sales_rep_id)::uuid IS NULL OR c.sales_rep_id = sqlc.narg(sales_rep_id)::uuid)
  AND (sqlc.narg(payment_terms_id)::uuid IS NULL OR c.payment_terms_id = sqlc.narg(payment_terms_id)::uuid)
  AND (sqlc.narg(billing_status)::text IS NULL OR c.billing_status = sqlc.narg(billing_status)::text)
  AND (sqlc.narg(country)::text IS NULL OR c.country = sqlc.narg(country)::text)
  AND (sqlc.narg(has_balance)::boolean IS NULL OR (c.balance > 0) = sqlc.narg(has_balance)::boolean)
  AND (sqlc.narg(has_credit)::boolean IS NULL OR (c.balance < 0) = sqlc.narg(has_credit)::boolean)
  AND (sqlc.narg(overdue)::boolean IS NULL OR (c.overdue_amount > 0) = sqlc.narg(overdue)::boolean)
  AND (sqlc.narg(last_order_from)::timestamptz IS NULL OR c.last_order_at >= sqlc.narg(last_order_from)::timestamptz)
  AND (sqlc.narg(last_order_to)::timestamptz IS NULL OR c.last_order_at < sqlc.narg(last_order_to)::timestamptz)
  AND (sqlc.narg(engaged)::boolean IS NULL
       OR (c.last_order_at IS NOT NULL AND c.last_order_at >= now() - interval '365 days') = sqlc.narg(engaged)::boolean)
  AND (sqlc.narg(custom)::jsonb IS NULL OR c.custom @> sqlc.narg(custom)::jsonb)
  AND (cardinality(@group_filters::text[]) = 0
       OR cardinality(@group_filters::text[]) = (
           SELECT count(*) FROM customer_group_members m
           JOIN customer_groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
           WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id
             AND m.category || ':' || g.code = ANY (@group_filters::text[])))
  -- end fragment: customer_filter
LIMIT @cap
) AS matched;

-- name: ContactList :many
SELECT * FROM customer_contacts
WHERE tenant_id = @tenant_id AND customer_id = @customer_id
ORDER BY is_primary DESC, name, id
LIMIT 1000;

-- name: ContactGetByID :one
SELECT * FROM customer_contacts WHERE tenant_id = @tenant_id AND id = @id;

-- name: ContactGetByIDForUpdate :one
SELECT * FROM customer_contacts WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- ContactInsert adds a contact with its customer's reach, as
-- CustomerReachForShare read it. (Every insert of a customer's row with
-- RETURNING takes the reach as a value: Citus cannot push down an INSERT
-- ... SELECT with RETURNING under row-level security.)
-- name: ContactInsert :one
INSERT INTO customer_contacts (tenant_id, id, customer_id, name, role, email, phone, is_primary, reach)
VALUES (@tenant_id, @id, @customer_id, @name, sqlc.narg(role), sqlc.narg(email), sqlc.narg(phone), @is_primary, @reach)
RETURNING *;

-- name: ContactUpdate :one
UPDATE customer_contacts SET name = @name, role = sqlc.narg(role), email = sqlc.narg(email), phone = sqlc.narg(phone),
    is_primary = @is_primary, version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- ContactClearPrimary unsets the customer's primary contact before
-- another becomes primary (one primary per customer, a unique index).
-- name: ContactClearPrimary :exec
UPDATE customer_contacts SET is_primary = false, version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND customer_id = @customer_id AND is_primary AND id <> @except_id;

-- name: ContactCountForCustomer :one
SELECT count(*) FROM customer_contacts WHERE tenant_id = @tenant_id AND customer_id = @customer_id;

-- name: ContactDelete :execrows
DELETE FROM customer_contacts WHERE tenant_id = @tenant_id AND id = @id;

-- CustomerSearchIDs returns up to @max ids of visible customers whose
-- searchable text matches the LIKE pattern (lower-case, wildcards
-- escaped), through the trigram index (see customer_search_ids).
-- name: CustomerSearchIDs :many
SELECT customer_search_ids(@pattern::text, @max::integer)::uuid AS id;

-- name: CustomerExists :one
SELECT EXISTS (SELECT 1 FROM customers WHERE tenant_id = @tenant_id);

-- CustomerPreferIndexOrder makes the rest of the transaction read rows in
-- the order of the sort's index rather than collect and sort them. Used
-- for a search whose matches are too common to pass as ids: the planner,
-- which cannot see how common a substring is under row-level security
-- (it estimated 3 rows for 9,623 and read the whole tenant: 570 ms), would
-- otherwise pick a bitmap scan of the tenant; walking the index stops after
-- a page of matches (3 to 40 ms on a 1,000,000-customer tenant).
-- name: CustomerPreferIndexOrder :exec
SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true);

-- name: CustomerRestorePlanner :exec
SELECT set_config('enable_bitmapscan', 'on', true), set_config('enable_seqscan', 'on', true);

-- CustomerSearchPage returns one page of ids, in order, for a search with
-- no filter but status (see customer_search_page).
-- name: CustomerSearchPage :many
SELECT customer_search_page(@pattern::text, @statuses::text[], @sort::text, sqlc.narg(after_text)::text,
    sqlc.narg(after_num)::numeric, sqlc.narg(after_ts)::timestamptz, sqlc.narg(after_id)::uuid, @max::integer)::uuid AS id;

-- CustomerGetByIDs reads a page of customers whose ids (and order) a
-- search already decided, through the row-level security policy.
-- name: CustomerGetByIDs :many
SELECT * FROM customers WHERE tenant_id = @tenant_id AND id = ANY (@ids::uuid[]);

-- CustomerGetByIDsWithGroups is CustomerGetByIDs with each customer's
-- group memberships (customer_memberships): a page of the list that a
-- search or the dormant preview chose by id.
-- name: CustomerGetByIDsWithGroups :many
SELECT sqlc.embed(c),
  -- fragment: customer_memberships (generated from queries/fragments/customer_memberships.sql: edit it there and run make generate)
  coalesce((
      SELECT jsonb_agg(jsonb_build_object(
          'category', m.category, 'category_name', gc.name, 'category_position', gc.position,
          'group_id', g.id, 'code', g.code, 'name', g.name,
          'price_list_id', g.price_list_id, 'payment_terms_id', g.payment_terms_id,
          'credit_limit', g.credit_limit, 'credit_days', g.credit_days, 'discount_rate', g.discount_rate)
          ORDER BY gc.position, gc.key)
      FROM customer_group_members m
      JOIN customer_groups g ON g.tenant_id = @tenant_id AND g.id = m.group_id
      JOIN group_categories gc ON gc.tenant_id = @tenant_id AND gc.key = m.category
      WHERE m.tenant_id = @tenant_id AND m.customer_id = c.id), '[]')::jsonb AS groups
  -- end fragment: customer_memberships
FROM customers c
WHERE c.tenant_id = @tenant_id AND c.id = ANY (@ids::uuid[]);

-- CustomerReachRefresh recomputes the reach of these customers from its
-- sources and copies it to their rows (migration 000010). Call it in the
-- transaction that changed a source: a customer's sales rep, a location's
-- rep override, a grant.
-- name: CustomerReachRefresh :exec
SELECT customer_reach_refresh(@customer_ids::uuid[]);

-- CustomerReachForShare returns a customer's reach (no row when the caller
-- cannot see it) and holds the row FOR SHARE until the transaction ends:
-- a row inserted for the customer with this reach keeps it, since a reach
-- refresh of the customer waits for the lock (migration 000010).
-- name: CustomerReachForShare :one
SELECT reach FROM customers WHERE tenant_id = @tenant_id AND id = @id FOR SHARE;

-- CustomerExportPage is CustomerList for the exports: the same filter,
-- sort and keyset (the same fragments), with only the columns a
-- spreadsheet shows and the sort keys, and what a spreadsheet names the
-- references by, in the same statement: each customer's groups as category:code, its sales rep's
-- e-mail, its default billing and shipping addresses. The whole row
-- (search text, reach arrays, figures) costs more to read and send than
-- the rest of an export together (measured: 26 µs a row for c.*), and
-- each further statement per page costs an array of the page's ids.
-- name: CustomerExportPage :many
SELECT c.id, c.code, c.name, c.kind, c.type, c.contact_name, c.email, c.phone, c.website, c.tax_number, c.currency,
    c.discount_rate, c.payment_terms_id, c.default_payment_method, c.tax_scheme, c.price_list_id, c.credit_limit,
    c.credit_period_days, c.credit_policy, c.billing_status, c.basis_date, c.sales_rep_id, c.status, c.notes, c.custom,
    c.balance, c.total_order_value, c.last_order_at, c.updated_at, c.created_at,
    (SELECT coalesce(array_agg(gm.category || ':' || gg.code ORDER BY gm.category), '{}')
     FROM customer_group_members gm
     JOIN customer_groups gg ON gg.tenant_id = gm.tenant_id AND gg.id = gm.group_id
     WHERE gm.tenant_id = c.tenant_id AND gm.customer_id = c.id)::text[] AS group_codes,
    u.email AS sales_rep_email,
    bl.line1 AS billing_line1, bl.line2 AS billing_line2, bl.city AS billing_city, bl.region AS billing_region,
    bl.postal_code AS billing_postal_code, bl.country AS billing_country,
    sl.line1 AS shipping_line1, sl.line2 AS shipping_line2, sl.city AS shipping_city, sl.region AS shipping_region,
    sl.postal_code AS shipping_postal_code, sl.country AS shipping_country
FROM customers c
LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.sales_rep_id
LEFT JOIN customer_locations bl ON bl.tenant_id = c.tenant_id AND bl.customer_id = c.id AND bl.is_default_billing
LEFT JOIN customer_locations sl ON sl.tenant_id = c.tenant_id AND sl.customer_id = c.id AND sl.is_default_shipping
WHERE
  -- fragment: customer_filter (generated from queries/fragments/customer_filter.sql: edit it there and run make generate)
  c.tenant_id = @tenant_id
  AND (sqlc.narg(scope_user_id)::uuid IS NULL OR c.reach @> ARRAY[sqlc.narg(scope_user_id)::uuid])
  AND (sqlc.narg(scope_customer_id)::uuid IS NULL OR c.id = sqlc.narg(scope_customer_id)::uuid)
  AND (sqlc.narg(search_ids)::uuid[] IS NULL OR c.id = ANY (sqlc.narg(search_ids)::uuid[]))
  AND (sqlc.narg(search_like)::text IS NULL OR c.search_text LIKE sqlc.narg(search_like)::text)
  AND c.status = ANY (@statuses::text[])
  AND (sqlc.narg(type)::text IS NULL OR c.type = sqlc.narg(type)::text)
  AND (sqlc.narg(kind)::text IS NULL OR c.kind = sqlc.narg(kind)::text)
  AND (sqlc.narg(sales_rep_id)::uuid IS NULL OR c.sales_rep_id = sqlc.narg(sales_rep_id)::uuid)
  AND (sqlc.narg(payment_terms_id)::uuid IS NULL OR c.payment_terms_id = sqlc.narg(payment_terms_id)::uuid)
  AND (sqlc.narg(billing_status)::text IS NULL OR c.billing_status = sqlc.narg(billing_status)::text)
  AND (sqlc.narg(country)::text IS NULL OR c.country = sqlc.narg(country)::text)
  AND (sqlc.narg(has_balance)::boolean IS NULL OR (c.balance > 0) = sqlc.narg(has_balance)::boolean)
  AND (sqlc.narg(has_credit)::boolean IS NULL OR (c.balance < 0) = sqlc.narg(has_credit)::boolean)
  AND (sqlc.narg(overdue)::boolean IS NULL OR (c.overdue_amount > 0) = sqlc.narg(overdue)::boolean)
  AND (sqlc.narg(last_order_from)::timestamptz IS NULL OR c.last_order_at >= sqlc.narg(last_order_from)::timestamptz)
  AND (sqlc.narg(last_order_to)::timestamptz IS NULL OR c.last_order_at < sqlc.narg(last_order_to)::timestamptz)
  AND (sqlc.narg(engaged)::boolean IS NULL
       OR (c.last_order_at IS NOT NULL AND c.last_order_at >= now() - interval '365 days') = sqlc.narg(engaged)::boolean)
  AND (sqlc.narg(custom)::jsonb IS NULL OR c.custom @> sqlc.narg(custom)::jsonb)
  AND (cardinality(@group_filters::text[]) = 0
       OR cardinality(@group_filters::text[]) = (
           SELECT count(*) FROM customer_group_members m
           JOIN customer_groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
           WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id
             AND m.category || ':' || g.code = ANY (@group_filters::text[])))
  -- end fragment: customer_filter
  -- fragment: customer_page (generated from queries/fragments/customer_page.sql: edit it there and run make generate)
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
  -- end fragment: customer_page
LIMIT @row_limit;
