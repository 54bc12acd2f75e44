package database_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/dbtest"
)

// citusGlobalTables are the tables of schema public without tenant_id, so
// the tenant filter rule does not apply to them: under Citus they are
// reference tables or stay on the coordinator. A new table without
// tenant_id must be added here on purpose.
var citusGlobalTables = map[string]string{
	"tenants":           "the tenants themselves: a reference table; TenantListIDs lists them for the per-tenant maintenance jobs",
	"auth_throttle":     "login attempt counters per IP and per account, before any tenant is known: a reference table",
	"schema_migrations": "golang-migrate's bookkeeping: stays local to the coordinator",
}

// tenantFilterExempt lists the statements (by unit name, e.g.
// "queries/jobs.sql JobGet") that reach tenant tables without fixing one
// tenant, each with why that is right: under Citus each runs on every
// shard. None does today: the maintenance jobs list the tenants (a global
// table) and then work tenant by tenant.
var tenantFilterExempt = map[string]string{}

// citusDynamicSQL lists the functions whose dynamic SQL is not built from
// constants, so the check cannot read it, with why that is safe.
var citusDynamicSQL = map[string]string{
	"app_set_context": "EXECUTE format('SET LOCAL app.… = %L', …): sets the request's context, reaches no table",
}

// TestCitusQueryPatterns checks every statement in queries/*.sql and in the
// bodies of the SQL and PL/pgSQL functions of schema public against what
// Citus, distributed by tenant_id, refuses or cannot route to one shard
// (the rules are in citus_lint_test.go).
func TestCitusQueryPatterns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	cat := loadCatalog(ctx, t, db.App)

	nullable := sqlcNullableParams(t, "../dbsqlc")
	// The generated code tells sqlc's NULL-able parameters apart.
	require.True(t, nullable["ItemQuoteList"][paramKey("own_list_id")], "sqlc.narg")
	require.False(t, nullable["ItemQuoteList"][paramKey("customer_id")])
	require.True(t, nullable["JobSetTotal"][paramKey("total")], "@total, set into a NULL-able column")
	units := queryUnits(t, "../../queries", nullable)
	fns, dynamic := functionUnits(ctx, t, db.App)
	units = append(units, fns...)
	require.ElementsMatch(t, slices.Collect(maps.Keys(citusDynamicSQL)), dynamic,
		"functions with dynamic SQL not built from constants, which this test cannot check")

	var global []string
	for table, columns := range cat.columns {
		if _, ok := columns["tenant_id"]; !ok {
			global = append(global, table)
		}
	}
	require.ElementsMatch(t, slices.Collect(maps.Keys(citusGlobalTables)), global, "tables without tenant_id")

	var problems []string
	used := map[string]bool{}
	for _, u := range units {
		for _, f := range cat.check(u) {
			if _, ok := tenantFilterExempt[u.Name]; ok && f.Rule == ruleTenantFilter {
				used[u.Name] = true
				continue
			}
			problems = append(problems, f.String())
		}
	}
	require.Empty(t, problems, "statements Citus refuses or cannot route to one tenant's shard:\n%s", strings.Join(problems, "\n"))
	for name := range tenantFilterExempt {
		require.True(t, used[name], "tenantFilterExempt lists %s, which now filters tenant_id (or is gone): remove it", name)
	}
}

// TestCitusPatternRules shows each rule firing on a small statement, and
// not firing on its accepted form.
func TestCitusPatternRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	cat := loadCatalog(ctx, t, db.App)

	tests := []struct {
		name string
		sql  string
		vars []string // PL/pgSQL variables, NULL-able
		want []citusRule
	}{
		{name: "ConflictSetNow", want: []citusRule{ruleConflictSet},
			sql: `INSERT INTO saved_views (tenant_id, user_id, name) VALUES (@tenant_id, @user_id, @name)
			      ON CONFLICT ON CONSTRAINT saved_views_pkey DO UPDATE SET updated_at = now()`},
		{name: "ConflictSetCurrentTimestamp", want: []citusRule{ruleConflictSet},
			sql: `INSERT INTO saved_views (tenant_id, user_id, name) VALUES ($1, $2, $3)
			      ON CONFLICT ON CONSTRAINT saved_views_pkey DO UPDATE SET updated_at = CURRENT_TIMESTAMP`},
		{name: "ConflictSetVolatileInCase", want: []citusRule{ruleConflictSet},
			sql: `INSERT INTO jobs (tenant_id, id) VALUES (@tenant_id, @id)
			      ON CONFLICT ON CONSTRAINT jobs_pkey DO UPDATE SET id = CASE WHEN random() < 0.5 THEN gen_random_uuid() ELSE jobs.id END`},
		{name: "ConflictSetStableOperator", want: []citusRule{ruleConflictSet},
			sql: `INSERT INTO saved_views AS v (tenant_id, user_id, name) VALUES (@tenant_id, @user_id, @name)
			      ON CONFLICT ON CONSTRAINT saved_views_pkey DO UPDATE SET updated_at = v.updated_at + make_interval(secs => @secs::float8)`},
		{name: "ConflictWhereNow", want: []citusRule{ruleConflictSet},
			sql: `INSERT INTO saved_views (tenant_id, user_id, name) VALUES (@tenant_id, @user_id, @name)
			      ON CONFLICT ON CONSTRAINT saved_views_pkey DO UPDATE SET name = EXCLUDED.name WHERE saved_views.updated_at < localtimestamp`},
		{name: "ConflictSetExcluded",
			sql: `INSERT INTO saved_views (tenant_id, user_id, name) VALUES (@tenant_id, @user_id, @name)
			      ON CONFLICT ON CONSTRAINT saved_views_pkey DO UPDATE SET updated_at = EXCLUDED.updated_at,
			          name = CASE WHEN saved_views.name = EXCLUDED.name THEN saved_views.name ELSE lower(EXCLUDED.name) END`},
		{name: "ConflictSetParameter",
			sql: `INSERT INTO tenant_counters (tenant_id, name, value) VALUES (@tenant_id, @name, 1)
			      ON CONFLICT ON CONSTRAINT tenant_counters_pkey DO UPDATE SET value = tenant_counters.value + 1`},
		{name: "UpdateCoalesceNow", want: []citusRule{ruleCaseCoalesce},
			sql: `UPDATE jobs SET started_at = coalesce(started_at, now()) WHERE tenant_id = @tenant_id AND id = @id`},
		{name: "UpdateCaseClockTimestamp", want: []citusRule{ruleCaseCoalesce},
			sql: `UPDATE sales_orders SET shipped_at = CASE WHEN @status::text = 'shipped' THEN clock_timestamp() ELSE shipped_at END
			      WHERE tenant_id = @tenant_id AND id = @id`},
		{name: "DeleteWhereCaseNow", want: []citusRule{ruleCaseCoalesce},
			sql: `DELETE FROM jobs WHERE tenant_id = @tenant_id AND coalesce(finished_at, statement_timestamp()) < @before`},
		{name: "UpdateCaseParameter",
			sql: `UPDATE jobs SET started_at = coalesce(started_at, @now::timestamptz), updated_at = now()
			      WHERE tenant_id = @tenant_id AND id = @id`},
		{name: "UpdateVolatile", want: []citusRule{ruleUpdateCall},
			sql: `UPDATE api_tokens SET token_hash = decode(md5(random()::text), 'hex') WHERE tenant_id = @tenant_id`},
		{name: "UpdateStableOnColumn", want: []citusRule{ruleUpdateCall},
			sql: `DELETE FROM api_tokens WHERE tenant_id = @tenant_id AND expires_at + interval '1 day' < @now::timestamptz`},
		{name: "UpdateStableWithoutColumn",
			sql: `DELETE FROM api_tokens WHERE tenant_id = @tenant_id AND expires_at < now() - interval '1 day'`},
		{name: "OuterJoinNarg", want: []citusRule{ruleOuterJoinNull},
			sql: `SELECT i.id FROM items i
			      LEFT JOIN price_list_items p ON p.tenant_id = i.tenant_id AND p.price_list_id = sqlc.narg(list_id)::uuid AND p.item_id = i.id
			      WHERE i.tenant_id = @tenant_id`},
		{name: "OuterJoinVariable", vars: []string{"p_category"}, want: []citusRule{ruleOuterJoinNull},
			sql: `SELECT c.id FROM customers c
			      LEFT JOIN customer_group_members m ON m.tenant_id = c.tenant_id AND m.customer_id = c.id AND m.category = p_category
			      WHERE c.tenant_id = app_tenant_id()`},
		{name: "OuterJoinCoalesced",
			sql: `SELECT i.id FROM items i
			      LEFT JOIN price_list_items p ON p.tenant_id = i.tenant_id
			          AND p.price_list_id = coalesce(sqlc.narg(list_id)::uuid, '00000000-0000-0000-0000-000000000000') AND p.item_id = i.id
			      WHERE i.tenant_id = @tenant_id`},
		{name: "InnerJoinNarg",
			sql: `SELECT i.id FROM items i
			      JOIN price_list_items p ON p.tenant_id = i.tenant_id AND p.price_list_id = sqlc.narg(list_id)::uuid AND p.item_id = i.id
			      WHERE i.tenant_id = @tenant_id`},
		{name: "NotFiltered", want: []citusRule{ruleTenantFilter},
			sql: `SELECT id FROM customers WHERE code = @code`},
		{name: "JoinedTableNotFiltered", want: []citusRule{ruleTenantFilter},
			sql: `SELECT o.id FROM sales_orders o JOIN customers c ON c.id = o.customer_id WHERE o.tenant_id = @tenant_id`},
		{name: "FilteredByAnyIsNotOneShard", want: []citusRule{ruleTenantFilter},
			sql: `DELETE FROM jobs WHERE tenant_id = ANY (@tenant_ids::uuid[])`},
		{name: "InsertWithoutTenant", want: []citusRule{ruleTenantFilter},
			sql: `INSERT INTO items (id, sku) SELECT id, sku FROM items WHERE tenant_id = @tenant_id`},
		{name: "FilteredThroughJoinAndSubquery",
			sql: `SELECT o.id FROM sales_orders o
			      JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id
			      JOIN customer_contacts k USING (tenant_id, customer_id)
			      WHERE o.tenant_id = @tenant_id
			        AND EXISTS (SELECT 1 FROM customer_grants g WHERE g.tenant_id = c.tenant_id AND g.customer_id = c.id)`},
		{name: "FilteredByFunctionAndVariable", vars: []string{"new"},
			sql: `DELETE FROM customer_location_reps WHERE tenant_id = NEW.tenant_id;
			      SELECT c.id FROM public.customers c WHERE c.tenant_id = public.app_tenant_id()`},
		{name: "GlobalTable",
			sql: `SELECT t.id FROM tenants t WHERE t.slug = @slug`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []citusRule
			var details []string
			for _, u := range snippetUnit(t, tt.sql, tt.vars...) {
				for _, f := range cat.check(u) {
					if !slices.Contains(got, f.Rule) {
						got = append(got, f.Rule)
					}
					details = append(details, f.String())
				}
			}
			require.ElementsMatch(t, tt.want, got, strings.Join(details, "\n"))
		})
	}
}
