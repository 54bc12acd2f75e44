package order_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/order"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/internal/tenant"
)

// BenchmarkOrderCreate places orders of three priced lines for 100
// customers through the order service (locking the customer, pricing,
// credit check, numbering, lines, figures recomputed, audit-free) and
// through the whole HTTP request, each beside a raw-SQL insert of the same
// order and lines (no pricing, no figures, no row-level security), in one
// interleaved loop. Reported: orders/s and p50/p95 per path, and each
// path's cost relative to raw SQL.
func BenchmarkOrderCreate(b *testing.B) {
	ctx := context.Background()
	app := apptest.New(b, dbtest.Shared(b), map[string]string{"CUSTOMERHUB_LOG_LEVEL": "error"})
	tn := app.Signup(b)
	for _, sku := range []string{"A", "B", "C"} {
		resp := app.Post(b, "/v1/items", tn.AdminToken, map[string]any{"sku": "BENCH-" + sku, "name": "Bench " + sku, "base_price": "12.34"})
		if resp.Status != http.StatusCreated {
			b.Fatalf("item: %s", resp.Body)
		}
	}
	customers := make([]uuid.UUID, 100)
	for i := range customers {
		customers[i] = uuid.MustParse(app.CreateCustomer(b, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Bench %03d", i)})["id"].(string))
	}
	raw, err := pgx.Connect(ctx, dbtest.URLFor(app.DB.Name, "postgres"))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close(ctx)
	var itemIDs []uuid.UUID
	rows, err := raw.Query(ctx, `SELECT id FROM items WHERE tenant_id = $1 ORDER BY sku`, tn.ID)
	if err != nil {
		b.Fatal(err)
	}
	itemIDs, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		b.Fatal(err)
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := server.NewServices(app.Config, app.DB.App, logger).Orders
	admin := &tenant.Principal{TenantID: uuid.MustParse(tn.ID), UserID: uuid.MustParse(tn.AdminID), Visibility: tenant.VisibilityAll,
		Permissions: auth.AllPermissions}
	qty := func(s string) money.Value { return money.Value{Decimal: decimal.RequireFromString(s)} }
	input := func(c uuid.UUID) order.Input {
		return order.Input{CustomerID: c, Lines: []order.LineInput{
			{SKU: "BENCH-A", Quantity: qty("1")}, {SKU: "BENCH-B", Quantity: qty("2")}, {SKU: "BENCH-C", Quantity: qty("3")}}}
	}
	unit := decimal.RequireFromString("12.34")
	rawInsert := func(i int, c uuid.UUID) error {
		tx, err := raw.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // committed below
		id := uuid.New()
		total := unit.Mul(decimal.NewFromInt(6))
		if _, err := tx.Exec(ctx, `INSERT INTO sales_orders (tenant_id, id, number, customer_id, currency, order_date, due_date, total)
			VALUES ($1, $2, $3, $4, 'USD', current_date, current_date, $5)`, tn.ID, id, fmt.Sprintf("RAW-%09d", i), c, total); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sales_order_lines (tenant_id, order_id, line_no, item_id, sku, name, quantity, unit_price, amount, price_source)
			SELECT $1, $2, g, ($3::uuid[])[g], 'BENCH-' || g, 'Bench', g, $4::numeric, g * $4::numeric, 'base_price' FROM generate_series(1, 3) g`,
			tn.ID, id, itemIDs, unit); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	httpOrder := func(c uuid.UUID) error {
		resp := app.Post(b, "/v1/sales-orders", tn.AdminToken, map[string]any{"customer_id": c.String(), "lines": []any{
			map[string]any{"sku": "BENCH-A", "quantity": "1"}, map[string]any{"sku": "BENCH-B", "quantity": "2"},
			map[string]any{"sku": "BENCH-C", "quantity": "3"}}})
		if resp.Status != http.StatusCreated {
			return fmt.Errorf("order: %d %s", resp.Status, resp.Body)
		}
		return nil
	}

	var rawD, svcD, httpD []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := customers[i%len(customers)]
		t0 := time.Now()
		if err := rawInsert(i, c); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		err := database.WithTenantTx(ctx, app.DB.App, database.ScopeFor(admin), func(ctx context.Context, tx database.Tx) error {
			_, err := svc.Create(ctx, tx, admin, input(c))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := httpOrder(c); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		rawD, svcD, httpD = append(rawD, t1.Sub(t0)), append(svcD, t2.Sub(t1)), append(httpD, t3.Sub(t2))
	}
	b.StopTimer()
	for _, p := range []struct {
		name string
		ds   []time.Duration
	}{{"raw", rawD}, {"service", svcD}, {"http", httpD}} {
		b.ReportMetric(float64(len(p.ds))/total(p.ds).Seconds(), p.name+"-orders/s")
		b.ReportMetric(ms(pct(p.ds, 50)), p.name+"-p50-ms")
		b.ReportMetric(ms(pct(p.ds, 95)), p.name+"-p95-ms")
		if p.name != "raw" {
			b.ReportMetric(total(p.ds).Seconds()/total(rawD).Seconds(), p.name+"/raw-time")
		}
	}
}

func total(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
