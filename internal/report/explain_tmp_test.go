package report_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
)

func TestExplainTmp(t *testing.T) {
	if os.Getenv("EXPLAIN_TMP") == "" {
		t.Skip()
	}
	app := apptest.New(t, dbtest.Shared(t), nil)
	f := newFixture(t, app)
	rep := app.CreateUser(t, f.tn, "sales_rep", nil)
	ctx := context.Background()
	f.tx(t, func(ctx context.Context, tx database.Tx) error {
		stmts := []string{
			`INSERT INTO group_categories (tenant_id, key, name) VALUES ($1, 'region', 'Region')`,
			`INSERT INTO customer_groups (tenant_id, id, category, code, name) SELECT $1, gen_random_uuid(), 'region', 'R' || i, 'Region ' || i FROM generate_series(1, 20) i`,
			`INSERT INTO customers (tenant_id, id, code, name, sales_rep_id) SELECT $1, gen_random_uuid(), 'C' || i, 'Customer ' || md5(i::text), CASE WHEN i % 100 = 0 THEN '` + rep.ID + `'::uuid END FROM generate_series(1, 50000) i`,
			`INSERT INTO customer_group_members (tenant_id, customer_id, category, group_id) SELECT $1, c.id, 'region', (SELECT id FROM customer_groups g WHERE g.tenant_id = $1 ORDER BY g.id OFFSET (abs(hashtext(c.code)) % 20) LIMIT 1) FROM customers c WHERE c.tenant_id = $1 AND abs(hashtext(c.code)) % 3 <> 0`,
			`INSERT INTO sales_orders (tenant_id, id, number, customer_id, currency, order_date, due_date, status, total, paid_amount) SELECT $1, gen_random_uuid(), 'SO' || c.code || '-' || k, c.id, 'USD', date '2024-01-01' + (abs(hashtext(c.code || k)) % 900), date '2024-01-31' + (abs(hashtext(c.code || k)) % 900), CASE WHEN k = 1 THEN 'invoiced' ELSE 'paid' END, 100, CASE WHEN k = 1 THEN 0 ELSE 100 END FROM customers c, generate_series(1, 3) k WHERE c.tenant_id = $1`,
			`INSERT INTO payments (tenant_id, id, number, customer_id, amount, currency, received_at) SELECT $1, gen_random_uuid(), 'P' || c.code, c.id, 400, 'USD', date '2026-01-01' FROM customers c WHERE c.tenant_id = $1`,
			`INSERT INTO payment_allocations (tenant_id, payment_id, order_id, amount) SELECT $1, p.id, o.id, 100 FROM payments p JOIN sales_orders o ON o.tenant_id = p.tenant_id AND o.customer_id = p.customer_id AND o.status = 'paid' WHERE p.tenant_id = $1`,
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s, f.tid); err != nil {
				return fmt.Errorf("%s: %w", s[:40], err)
			}
		}
		return nil
	})
	admin, err := pgx.Connect(ctx, dbtest.URLFor(app.DB.Name, dbtest.OwnerRole))
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "ANALYZE")
	require.NoError(t, err)
	admin.Close(ctx)
	f.exec(t, `SELECT 1`)
	explain := func(name string, scope database.Scope, sql string, args ...any) {
		require.NoError(t, database.WithTenantTx(ctx, app.DB.App, scope, func(ctx context.Context, tx database.Tx) error {
			rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS off, COSTS off) "+sql, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			var lines []string
			for rows.Next() {
				var l string
				if err := rows.Scan(&l); err != nil {
					return err
				}
				lines = append(lines, l)
			}
			fmt.Printf("==== %s\n%s\n", name, strings.Join(lines, "\n"))
			return rows.Err()
		}))
	}
	_, _ = app.DB.App.Exec(ctx, "SELECT 1")
	all := database.SystemScope(f.tid)
	rid := uuid.MustParse(rep.ID)
	assigned := database.Scope{TenantID: f.tid, UserID: &rid, Visibility: "assigned"}
	q := func(s string) string { return s }
	cust := dbsqlcQuery("receivablesByCustomer")
	for _, sc := range []struct {
		n string
		s database.Scope
	}{{"all", all}, {"assigned", assigned}} {
		explain("customers "+sc.n, sc.s, q(cust), asOf, f.tid, nil, nil, nil, 51)
		explain("groups "+sc.n, sc.s, dbsqlcQuery("receivablesByGroup"), asOf, f.tid, "region")
		explain("groups nocat "+sc.n, sc.s, dbsqlcQuery("receivablesByGroup"), asOf, f.tid, nil)
		explain("sales "+sc.n, sc.s, dbsqlcQuery("salesByGroup"), f.tid, "region", asOf.AddDate(0, -1, 0), asOf)
	}
	_ = dbsqlc.New()
}

func dbsqlcQuery(name string) string {
	b, err := os.ReadFile("../dbsqlc/reports.sql.go")
	if err != nil {
		panic(err)
	}
	s := string(b)
	i := strings.Index(s, "const "+name+" = `")
	s = s[i+len("const "+name+" = `"):]
	return s[:strings.Index(s, "`")]
}
