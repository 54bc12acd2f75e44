// Package demodata generates realistic customer data in bulk: tenants with
// an admin and sales reps, and customers with names, contacts, cities,
// balances and order figures. `customerhub demo --customers N --tenants T`
// and the search benchmarks use it.
//
// COPY FROM is refused on tables under row-level security, so rows are
// copied into a temporary staging table (no policy applies to it) and moved
// with INSERT ... SELECT ... ON CONFLICT inside each tenant's scope, where
// the policies' WITH CHECK still applies. (On Citus a plain INSERT ...
// SELECT from a temporary table into an RLS table is refused too; the ON
// CONFLICT form works there, hence the clause.)
package demodata

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// Options sizes the data.
type Options struct {
	// Tenants is how many tenants to create; the first holds Customers
	// customers, each other one SmallCustomers.
	Tenants        int
	Customers      int
	SmallCustomers int
	// Reps is the number of sales reps per tenant.
	Reps int
	// SlugPrefix names the tenants: <prefix>-000, <prefix>-001, ...
	SlugPrefix string
	// PasswordHash is stored for every generated user.
	PasswordHash string
	Seed         uint64
}

// Tenant is a generated tenant.
type Tenant struct {
	ID        uuid.UUID
	Slug      string
	AdminID   uuid.UUID
	RepIDs    []uuid.UUID
	Customers int
}

// Generate creates the tenants and customers. Tenants whose slug exists
// already are skipped, so a run that stopped half-way can be repeated.
func Generate(ctx context.Context, pool *pgxpool.Pool, o Options, progress io.Writer) ([]Tenant, error) {
	if o.Reps <= 0 {
		o.Reps = 20
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	var out []Tenant
	for i := 0; i < o.Tenants; i++ {
		n := o.SmallCustomers
		if i == 0 {
			n = o.Customers
		}
		slug := fmt.Sprintf("%s-%03d", o.SlugPrefix, i)
		start := time.Now()
		t, created, err := generateTenant(ctx, pool, rng, slug, n, o)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", slug, err)
		}
		out = append(out, t)
		if progress != nil && created {
			fmt.Fprintf(progress, "tenant %s: %d customers in %s\n", slug, n, time.Since(start).Round(time.Millisecond))
		}
	}
	return out, nil
}

func generateTenant(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, slug string, n int, o Options) (Tenant, bool, error) {
	q := dbsqlc.New()
	existing, err := q.TenantGetBySlug(ctx, pool, slug)
	if err == nil {
		t, err := describe(ctx, pool, existing)
		return t, false, err
	}
	if err != pgx.ErrNoRows {
		return Tenant{}, false, err
	}
	t := Tenant{ID: uuid.New(), Slug: slug, AdminID: uuid.New(), Customers: n}
	for r := 0; r < o.Reps; r++ {
		t.RepIDs = append(t.RepIDs, uuid.New())
	}
	err = database.WithTenantTx(ctx, pool, database.SystemScope(t.ID), func(ctx context.Context, tx database.Tx) error {
		if _, err := q.TenantInsert(ctx, tx, dbsqlc.TenantInsertParams{ID: t.ID, Slug: slug, Name: "Bench " + slug}); err != nil {
			return err
		}
		if _, err := q.SettingsInsert(ctx, tx, dbsqlc.SettingsInsertParams{TenantID: t.ID, DefaultCountry: "US", DefaultCurrency: "USD"}); err != nil {
			return err
		}
		admin, rep := "admin", "sales_rep"
		if _, err := q.UserInsert(ctx, tx, dbsqlc.UserInsertParams{TenantID: t.ID, ID: t.AdminID, Email: "admin@" + slug + ".example",
			Name: "Admin", PasswordHash: o.PasswordHash, BuiltinRole: &admin, Visibility: "all"}); err != nil {
			return err
		}
		for i, id := range t.RepIDs {
			if _, err := q.UserInsert(ctx, tx, dbsqlc.UserInsertParams{TenantID: t.ID, ID: id, Email: fmt.Sprintf("rep%02d@%s.example", i, slug),
				Name: fmt.Sprintf("Rep %02d", i), PasswordHash: o.PasswordHash, BuiltinRole: &rep, Visibility: "assigned"}); err != nil {
				return err
			}
		}
		return copyCustomers(ctx, tx, rng, t, n)
	})
	return t, true, err
}

func describe(ctx context.Context, pool *pgxpool.Pool, tn dbsqlc.Tenant) (Tenant, error) {
	t := Tenant{ID: tn.ID, Slug: tn.Slug}
	err := database.WithTenantTx(ctx, pool, database.SystemScope(tn.ID), func(ctx context.Context, tx database.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, builtin_role FROM users WHERE tenant_id = $1 ORDER BY email`, tn.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id uuid.UUID
			var role *string
			if err := rows.Scan(&id, &role); err != nil {
				return err
			}
			switch {
			case role != nil && *role == "admin":
				t.AdminID = id
			case role != nil && *role == "sales_rep":
				t.RepIDs = append(t.RepIDs, id)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM customers WHERE tenant_id = $1`, tn.ID).Scan(&t.Customers)
	}, database.ReadOnly)
	return t, err
}

var stageColumns = []string{"id", "code", "name", "contact_name", "email", "phone", "tax_number", "city", "country",
	"sales_rep_id", "status", "type", "balance", "overdue_amount", "total_order_value", "order_count", "last_order_at", "created_at"}

func copyCustomers(ctx context.Context, tx database.Tx, rng *rand.Rand, t Tenant, n int) error {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stage_customers (
		id uuid, code text, name text, contact_name text, email text, phone text, tax_number text, city text, country text,
		sales_rep_id uuid, status text, type text, balance numeric, overdue_amount numeric, total_order_value numeric,
		order_count integer, last_order_at timestamptz, created_at timestamptz) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	now := time.Now().UTC()
	src := &customerRows{rng: rng, n: n, t: t, now: now}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage_customers"}, stageColumns, src); err != nil {
		return fmt.Errorf("copy customers: %w", err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, contact_name, email, phone, tax_number, city, country,
			sales_rep_id, status, type, balance, overdue_amount, total_order_value, order_count, last_order_at, created_at, updated_at, custom,
			reach)
		SELECT $1, id, code, name, contact_name, email, phone, tax_number, city, country, sales_rep_id, status, type, balance,
			overdue_amount, total_order_value, order_count, last_order_at, created_at, created_at, '{}',
			reach_norm(ARRAY[id, sales_rep_id])
		FROM stage_customers
		ON CONFLICT ON CONSTRAINT customers_pkey DO NOTHING`, t.ID)
	if err != nil {
		return fmt.Errorf("move customers: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO tenant_counters (tenant_id, name, value) VALUES ($1, 'customer_code', $2)
		ON CONFLICT ON CONSTRAINT tenant_counters_pkey DO UPDATE SET value = EXCLUDED.value`, t.ID, n)
	return err
}

// customerRows feeds CopyFrom one generated customer at a time.
type customerRows struct {
	rng *rand.Rand
	n   int
	i   int
	t   Tenant
	now time.Time
	row []any
}

func (r *customerRows) Next() bool {
	if r.i >= r.n {
		return false
	}
	r.i++
	rng := r.rng
	name := companyName(rng)
	first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	city := cities[rng.IntN(len(cities))]
	status, typ := "active", "company"
	if rng.IntN(10) == 0 {
		status = "dormant"
	}
	if rng.IntN(5) == 0 {
		typ = "individual"
		name = first + " " + last
	}
	orders := rng.IntN(40)
	total := float64(orders) * (50 + rng.Float64()*950)
	balance := 0.0
	if rng.IntN(3) == 0 {
		balance = rng.Float64() * 5000
	} else if rng.IntN(20) == 0 {
		balance = -rng.Float64() * 200
	}
	overdue := 0.0
	if balance > 0 && rng.IntN(4) == 0 {
		overdue = balance * rng.Float64()
	}
	var lastOrder any
	if orders > 0 {
		lastOrder = r.now.Add(-time.Duration(rng.IntN(900*24)) * time.Hour)
	}
	code := fmt.Sprintf("C%07d", r.i)
	r.row = []any{
		uuid.New(), code, name, first + " " + last,
		fmt.Sprintf("%s.%s%d@%s.example", lowerASCII(first), lowerASCII(last), r.i, domainWord(rng)),
		fmt.Sprintf("+1%03d555%04d", 200+rng.IntN(700), rng.IntN(10000)),
		fmt.Sprintf("US%09d", rng.IntN(1_000_000_000)), city.name, "US",
		r.t.RepIDs[rng.IntN(len(r.t.RepIDs))], status, typ,
		fmt.Sprintf("%.2f", balance), fmt.Sprintf("%.2f", overdue), fmt.Sprintf("%.2f", total), orders, lastOrder,
		r.now.Add(-time.Duration(r.n-r.i) * time.Minute),
	}
	return true
}

func (r *customerRows) Values() ([]any, error) { return r.row, nil }
func (r *customerRows) Err() error             { return nil }

func companyName(rng *rand.Rand) string {
	return adjectives[rng.IntN(len(adjectives))] + " " + nouns[rng.IntN(len(nouns))] + " " + suffixes[rng.IntN(len(suffixes))]
}

func domainWord(rng *rand.Rand) string { return lowerASCII(nouns[rng.IntN(len(nouns))]) }

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
