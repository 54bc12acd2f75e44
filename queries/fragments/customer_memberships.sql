-- customer_memberships is a customer's group memberships as one jsonb
-- array, for the reads that show customers with their groups (get by id,
-- the list, a page of ids): the memberships come in the customer's own
-- statement instead of a second round trip. It is a column of the select
-- list ("groups"), written once here and copied by make generate (package
-- internal/sqlfrag), as GroupMemberListByCustomers reads the memberships
-- (customer_group_members.sql): the same fields, each customer's in
-- fallback order (category position, then key), through the same
-- row-level security policies. group.DecodeMemberships reads it; the keys
-- are its field names, and numerics stay exact (a jsonb number keeps the
-- numeric's digits and scale). A customer without memberships gets [].
-- Every table is filtered by @tenant_id itself, the outer customer's
-- tenant, so the statement stays a single-shard (router) query on Citus.
-- The customers table is "c".

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
