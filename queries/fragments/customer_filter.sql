-- customer_filter is the customer list's filter: which customers
-- GET /v1/customers shows for its filters and search, as the actor sees
-- them. It is written once, here, and copied by make generate (package
-- internal/sqlfrag) between marker lines into every query that selects
-- "the customers of the list": CustomerList, CustomerCount and
-- CustomerExportPage (customers.sql) and CustomerSelectionInsert
-- (customer_bulk.sql: bulk updates and SMS receivable notices). A copy
-- rather than a SQL function or view so that each statement PostgreSQL
-- plans is the same as a hand-written one: with custom plans
-- (database.CustomPlans) every "@x IS NULL OR ..." folds away and the
-- planner sees the remaining predicates on the customers row itself,
-- which a function call or a view with a subquery would hide. Its
-- arguments reach every query through one Go struct, filterArgs
-- (internal/customer/filter_gen.go, generated from this file's
-- parameters), filled by one function (Service.filter); a test
-- (TestFilterSelectsAlike) holds list, count, export, bulk selection and
-- SMS selection to the same customers for every filter.
--
-- The scope arguments repeat the visibility rule of the row-level security
-- policy so the planner can use the indexes; the policy still applies.
-- Search: the caller first asks CustomerSearchIDs for the matching ids (a
-- trigram index search, see migration 000002) and passes them as
-- search_ids, so the planner knows how few rows match and starts from
-- them. When there are too many to pass (a common term), it passes the
-- pattern as search_like instead: matches are then dense, and filtering
-- rows while walking the sort index finds a page quickly. Group filters
-- are "category:code" strings (category keys have no colon); a customer
-- matches when it is in every named group. The customers table is "c".

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
