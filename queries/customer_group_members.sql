-- GroupMemberUpsert puts a customer into one group per category, the two
-- arrays being read in step (set-returning functions in one select list
-- advance together); an existing membership in the category is
-- replaced (its created_at kept when the group does not change;
-- EXCLUDED.created_at is the inserted row's default, now(): Citus refuses
-- now() itself in DO UPDATE SET). The rows take the customer's reach as
-- CustomerReachForShare read it.
-- name: GroupMemberUpsert :exec
INSERT INTO customer_group_members (tenant_id, customer_id, category, group_id, reach)
SELECT @tenant_id::uuid, @customer_id::uuid, unnest(@categories::text[]), unnest(@group_ids::uuid[]), @reach::uuid[]
ON CONFLICT ON CONSTRAINT customer_group_members_pkey
DO UPDATE SET group_id = EXCLUDED.group_id, created_at = EXCLUDED.created_at
WHERE customer_group_members.group_id <> EXCLUDED.group_id;

-- name: GroupMemberDelete :execrows
DELETE FROM customer_group_members
WHERE tenant_id = @tenant_id AND customer_id = @customer_id AND category = ANY(@categories::text[]);

-- GroupMemberListByCustomers loads the memberships of several customers
-- with their groups' defaults, each customer's in fallback order (category
-- position, then key).
-- name: GroupMemberListByCustomers :many
SELECT m.customer_id, sqlc.embed(g), c.name AS category_name, c.position AS category_position
FROM customer_group_members m
JOIN customer_groups g ON g.tenant_id = @tenant_id AND g.id = m.group_id
JOIN group_categories c ON c.tenant_id = @tenant_id AND c.key = m.category
WHERE m.tenant_id = @tenant_id AND m.customer_id = ANY(@customer_ids::uuid[])
ORDER BY m.customer_id, c.position, c.key;
