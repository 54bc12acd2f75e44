package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// customerOf says, per table whose rows belong to a customer (it has a
// reach column, migration 000010), how to find a row's customer; tables
// absent here use their customer_id column. A table whose rows name no
// customer that way fails the test: say how its rows find theirs.
var customerOf = map[string]string{
	"customers":           "x.id",
	"customer_merges":     "x.kept_id",
	"sales_order_lines":   "(SELECT o.customer_id FROM sales_orders o WHERE o.tenant_id = x.tenant_id AND o.id = x.order_id)",
	"payment_allocations": "(SELECT p.customer_id FROM payments p WHERE p.tenant_id = x.tenant_id AND p.id = x.payment_id)",
}

// TestPoliciesHaveNoSubqueries: Citus refuses a row-level security policy
// with a subquery on a distributed table, and a subquery in a policy runs
// per row; every policy compares the row's own columns.
func TestPoliciesHaveNoSubqueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbtest.Shared(t).OwnerURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT c.relname || '.' || p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
		WHERE coalesce(p.polqual::text, '') LIKE '%{SUBLINK%' OR coalesce(p.polwithcheck::text, '') LIKE '%{SUBLINK%'`)
	require.NoError(t, err)
	bad, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Empty(t, bad, "policies with a subquery")

	var policies int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_policy`).Scan(&policies))
	require.Positive(t, policies, "the check read the policies")
}

// TestVisibilityWithoutFilters: every way the people who see a customer
// can change (its rep, single and bulk; location rep overrides, set,
// changed, deleted and bulk; grants given and taken; a merge) is
// exercised, and then
//   - every row's reach matches its sources (the customer's rep, location
//     reps and grantees, and its own portal key), and every row of a
//     customer carries its customer's reach;
//   - as the application role, in a sales rep's or a portal user's
//     context and with no filter of the application's at all, every
//     tenant table shows exactly the rows of the customers that person
//     sees by those sources (and all the tenant's rows of the tables
//     that belong to no customer).
func TestVisibilityWithoutFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A database of its own: its workers would also run the other tests'
	// jobs in a shared one.
	db := dbtest.Fresh(t)
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	// SMS settings need a secret key; no message of the test is sent (none
	// of its customers has a phone), and none could reach Twilio.
	app := apptest.New(t, db, map[string]string{"CUSTOMERHUB_SECRET_KEY": base64.StdEncoding.EncodeToString(key),
		"CUSTOMERHUB_TWILIO_API_URL": "http://127.0.0.1:1"})
	app.StartWorkers(t)
	tn := app.Signup(t)
	admin := tn.AdminToken
	ok := func(resp *apptest.Response, want int) map[string]any {
		t.Helper()
		require.Equal(t, want, resp.Status, "%s", resp.Body)
		if len(resp.Body) == 0 {
			return nil
		}
		return resp.Map(t)
	}
	idOf := func(m map[string]any) string { return m["id"].(string) }
	rep1 := app.CreateUser(t, tn, "sales_rep", nil)
	rep2 := app.CreateUser(t, tn, "sales_rep", nil)
	viewer := app.CreateUser(t, tn, "viewer", map[string]any{"visibility": "assigned"})

	cust := func(name string, rep *apptest.User) string {
		body := map[string]any{"name": name}
		if rep != nil {
			body["sales_rep_id"] = rep.ID
		}
		return idOf(app.CreateCustomer(t, admin, body))
	}
	c1, c2, c3, c4, c5, dup := cust("One", &rep1), cust("Two", &rep2), cust("Three", &rep2), cust("Four", &rep2), cust("Five", nil), cust("One again", &rep2)
	moved := []string{cust("Moved A", &rep2), cust("Moved B", &rep2)}
	portal := app.CreateUser(t, tn, "portal", map[string]any{"customer_id": c2})

	ok(app.Post(t, "/v1/items", admin, map[string]any{"sku": "RCH", "name": "Reach item", "base_price": "5.00"}), http.StatusCreated)
	history := func(c string) {
		t.Helper()
		ok(app.Post(t, "/v1/customers/"+c+"/contacts", admin, map[string]any{"name": "Contact"}), http.StatusCreated)
		ok(app.Do(t, apptest.Req{Method: http.MethodPut, Path: "/v1/customers/" + c + "/prices/RCH", Token: admin,
			Body: map[string]any{"price": "4.00"}}), http.StatusCreated)
		order := ok(app.Post(t, "/v1/sales-orders", admin, map[string]any{"customer_id": c,
			"lines": []any{map[string]any{"sku": "RCH", "quantity": "2"}}}), http.StatusCreated)
		ok(app.Post(t, "/v1/payments", admin, map[string]any{"customer_id": c, "amount": "3", "order_id": idOf(order)}), http.StatusCreated)
		customer := app.Get(t, "/v1/customers/"+c, admin)
		ok(app.Patch(t, "/v1/customers/"+c, admin, customer.Header.Get("ETag"), map[string]any{"groups": map[string]any{"region": "NORTH"}}), http.StatusOK)
	}
	ok(app.Post(t, "/v1/customer-groups", admin, map[string]any{"category": "region", "code": "NORTH", "name": "North"}), http.StatusCreated)
	for _, c := range []string{c1, c2, c3, c4, c5, dup} {
		history(c)
	}
	// A receivable-notice campaign to all of them: one message each (all
	// skipped: no phone), carrying its customer's reach through every
	// change below, dup's through the merge that moves it to c1.
	ok(app.Patch(t, "/v1/sms/settings", admin, `"1"`, map[string]any{"account_sid": "AC0123456789abcdef0123456789abcdef",
		"auth_token": "Tok3nSecretValue0123456789abcXYZ", "from_number": "+14155550100"}), http.StatusOK)
	ok(app.Post(t, "/v1/sms/receivable-notices", admin, map[string]any{"selection": map[string]any{"ids": append([]string{c1, c2, c3, c4, c5, dup}, moved...)},
		"template": "You owe {balance}"}), http.StatusAccepted)

	// Location rep overrides: rep1 gains c3 through one; a second, for
	// rep2 on c1, is set and then deleted; a third changes hands.
	loc := func(c string, rep *string) string {
		body := map[string]any{"label": "Site", "line1": "1 Main St", "city": "Springfield", "country": "US", "kinds": []string{"shipping"}}
		if rep != nil {
			body["sales_rep_id"] = *rep
		}
		return idOf(ok(app.Post(t, "/v1/customers/"+c+"/locations", admin, body), http.StatusCreated))
	}
	loc(c3, &rep1.ID)
	ok(app.Delete(t, "/v1/locations/"+loc(c1, &rep2.ID), admin), http.StatusNoContent)
	changing := loc(c5, &rep2.ID)
	ok(app.Patch(t, "/v1/locations/"+changing, admin, `"1"`, map[string]any{"sales_rep_id": rep1.ID}), http.StatusOK)

	// The customer's own rep changes: c2 from rep2 to rep1 and back.
	for _, rep := range []string{rep1.ID, rep2.ID} {
		customer := app.Get(t, "/v1/customers/"+c2, admin)
		ok(app.Patch(t, "/v1/customers/"+c2, admin, customer.Header.Get("ETag"), map[string]any{"sales_rep_id": rep}), http.StatusOK)
	}
	// Grants: rep1 is granted c4; viewer is granted c2 and loses it again,
	// and is granted c5.
	ok(app.Post(t, "/v1/users/"+rep1.ID+"/customer-grants", admin, map[string]any{"customer_id": c4}), http.StatusCreated)
	ok(app.Post(t, "/v1/users/"+viewer.ID+"/customer-grants", admin, map[string]any{"customer_id": c2}), http.StatusCreated)
	ok(app.Delete(t, "/v1/users/"+viewer.ID+"/customer-grants/"+c2, admin), http.StatusNoContent)
	ok(app.Post(t, "/v1/users/"+viewer.ID+"/customer-grants", admin, map[string]any{"customer_id": c5}), http.StatusCreated)

	// Bulk: the moved customers go to rep1; their locations get rep2.
	for _, c := range moved {
		history(c)
		loc(c, nil)
	}
	job := apptest.JobID(t, app.Post(t, "/v1/customers/bulk-update", admin, map[string]any{
		"selection": map[string]any{"ids": moved}, "set": map[string]any{"sales_rep_id": rep1.ID}}))
	require.Equal(t, "succeeded", app.WaitJob(t, admin, job)["state"])
	job = apptest.JobID(t, app.Post(t, "/v1/locations/bulk-update", admin, map[string]any{
		"selection": map[string]any{"filter": map[string]any{"customer_id": moved[0]}}, "set": map[string]any{"sales_rep_id": rep2.ID}}))
	require.Equal(t, "succeeded", app.WaitJob(t, admin, job)["state"])
	// A merge: dup (rep2's, with its history) into c1 (rep1's).
	ok(app.Post(t, "/v1/customers/"+c1+"/merge", admin, map[string]any{"duplicate_id": dup}), http.StatusOK)

	owner, err := pgx.Connect(ctx, dbtest.URLFor(db.Name, "postgres"))
	require.NoError(t, err)
	defer owner.Close(ctx)
	tid := uuid.MustParse(tn.ID)

	t.Run("ReachMatchesItsSources", func(t *testing.T) {
		var wrong []string
		rows, err := owner.Query(ctx, `
			SELECT c.name FROM customers c
			WHERE c.tenant_id = $1 AND c.reach IS DISTINCT FROM (
			    SELECT coalesce(array_agg(DISTINCT k ORDER BY k), '{}') FROM (
			        SELECT c.id AS k UNION ALL SELECT c.sales_rep_id
			        UNION ALL SELECT l.sales_rep_id FROM customer_locations l WHERE l.tenant_id = c.tenant_id AND l.customer_id = c.id
			        UNION ALL SELECT g.user_id FROM customer_grants g WHERE g.tenant_id = c.tenant_id AND g.customer_id = c.id) s
			    WHERE k IS NOT NULL)`, tid)
		require.NoError(t, err)
		wrong, err = pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Empty(t, wrong, "customers whose reach is not their sources'")
		for _, table := range reachTables(ctx, t, owner) {
			var n, stale int
			// Identifiers come from the catalog and the map above.
			require.NoError(t, owner.QueryRow(ctx, `
				SELECT count(*), count(*) FILTER (WHERE x.reach IS DISTINCT FROM c.reach)
				FROM `+pgx.Identifier{table}.Sanitize()+` x
				JOIN customers c ON c.tenant_id = x.tenant_id AND c.id = `+customerExpr(table)+`
				WHERE x.tenant_id = $1`, tid).Scan(&n, &stale))
			require.Zero(t, stale, "%s: rows whose reach is not their customer's", table)
			if table != "customer_merges" {
				require.Positive(t, n, "%s: the test wrote rows of it", table)
			}
		}
	})

	// sees lists the customers a user sees by the sources alone.
	sees := func(t *testing.T, userID string) []string {
		rows, err := owner.Query(ctx, `
			SELECT c.id::text FROM customers c WHERE c.tenant_id = $1 AND (
			    c.sales_rep_id = $2
			    OR EXISTS (SELECT 1 FROM customer_locations l WHERE l.tenant_id = c.tenant_id AND l.customer_id = c.id AND l.sales_rep_id = $2)
			    OR EXISTS (SELECT 1 FROM customer_grants g WHERE g.tenant_id = c.tenant_id AND g.customer_id = c.id AND g.user_id = $2))`,
			tid, userID)
		require.NoError(t, err)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return ids
	}
	people := []struct {
		name, user, visibility string
		customer               *string
		want                   []string
	}{
		{name: "Rep1", user: rep1.ID, visibility: "assigned"},
		{name: "Rep2", user: rep2.ID, visibility: "assigned"},
		{name: "ViewerWithGrant", user: viewer.ID, visibility: "assigned"},
		{name: "Portal", user: portal.ID, visibility: "portal", customer: &c2, want: []string{c2}},
	}
	for _, p := range people {
		t.Run(p.name, func(t *testing.T) {
			want := p.want
			if want == nil {
				want = sees(t, p.user)
			}
			sort.Strings(want)
			require.NotEmpty(t, want)
			appConn, err := pgx.Connect(ctx, db.AppURL)
			require.NoError(t, err)
			defer appConn.Close(ctx)
			tx, err := appConn.Begin(ctx)
			require.NoError(t, err)
			defer tx.Rollback(ctx) //nolint:errcheck // read only
			_, err = tx.Exec(ctx, `SELECT app_set_context($1, $2, $3, $4)`, tid, p.user, p.visibility, p.customer)
			require.NoError(t, err)
			for _, table := range tenantTablesOf(ctx, t, owner) {
				if !slices.Contains(reachTables(ctx, t, owner), table) {
					continue
				}
				// No WHERE of ours: the policy alone decides.
				rows, err := tx.Query(ctx, `SELECT DISTINCT (`+customerExpr(table)+`)::text FROM `+pgx.Identifier{table}.Sanitize()+` x`)
				require.NoError(t, err)
				got, err := pgx.CollectRows(rows, pgx.RowTo[string])
				require.NoError(t, err)
				for _, c := range got {
					require.Contains(t, want, c, "%s shows a row of a customer %s does not see", table, p.name)
				}
				var expected, n int
				require.NoError(t, owner.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()+` x
					WHERE x.tenant_id = $1 AND (`+customerExpr(table)+`)::text = ANY ($2)`, tid, want).Scan(&expected))
				require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n))
				require.Equal(t, expected, n, "%s: the rows of the customers %s sees", table, p.name)
			}
			// Audit events: those of the tenant's own objects, of the
			// customers the person sees, and of deleted customers they saw
			// when those went (the merged duplicate).
			key := p.user
			if p.customer != nil {
				key = *p.customer
			}
			var events, expected int
			require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&events))
			require.NoError(t, owner.QueryRow(ctx, `SELECT count(*) FROM audit_events e
				WHERE e.tenant_id = $1 AND (e.customer_id IS NULL OR e.customer_id::text = ANY ($2)
				    OR (NOT EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = e.tenant_id AND c.id = e.customer_id)
				        AND e.reach @> ARRAY[$3::uuid]))`, tid, want, key).Scan(&expected))
			require.Equal(t, expected, events, "audit events %s reads", p.name)
		})
	}
}

// notACustomersRows are the tables that name a customer without being
// rows of it: a portal user is a user of the tenant; an audit event follows
// its customer through a reach of its own, checked above.
var notACustomersRows = []string{"users", "audit_events"}

// TestEveryCustomersTableCarriesReach: a table that names a customer is
// one of the customer's rows and follows its visibility, or is listed in
// notACustomersRows with the reason.
func TestEveryCustomersTableCarriesReach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbtest.Shared(t).OwnerURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'customer_id' AND NOT a.attisdropped)
		  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'reach' AND NOT a.attisdropped)`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	for _, n := range names {
		require.Contains(t, notACustomersRows, n, "%s names a customer but carries no reach", n)
	}
}

// tenantTablesOf lists the public tables with a tenant_id column.
func tenantTablesOf(ctx context.Context, t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(ctx, `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

// reachTables lists the tables whose rows belong to a customer (they carry
// reach), audit events aside (their customer may be gone).
func reachTables(ctx context.Context, t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(ctx, `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'reach' AND NOT a.attisdropped
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'audit_events' ORDER BY 1`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Contains(t, names, "customers")
	for _, n := range names {
		var hasCustomer bool
		require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_attribute
			WHERE attrelid = ('public.' || $1)::regclass AND attname = 'customer_id' AND NOT attisdropped)`, n).Scan(&hasCustomer))
		_, mapped := customerOf[n]
		require.True(t, hasCustomer || mapped, "%s carries reach but names no customer: add it to customerOf", n)
	}
	return names
}

func customerExpr(table string) string {
	if e, ok := customerOf[table]; ok {
		return e
	}
	return "x.customer_id"
}
