// Package benchdata is the benchmarks' shared data set: by default
// 1,000,000 customers in one tenant plus 99 tenants of 10,000
// (BENCH_CUSTOMERS, BENCH_TENANTS, BENCH_SMALL change it). It is generated
// once, into a database that outlives the run (dbtest.Persistent), and
// re-used by every benchmark until the migrations change; BENCH_DATABASE
// names an existing one instead.
package benchdata

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/demodata"
)

// Size reads a size from the environment, def when unset or not positive.
func Size(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// Set is the loaded data set: its database and tenants (the first is the
// large one).
type Set struct {
	DB      *dbtest.DB
	Tenants []demodata.Tenant
}

// Load generates the data set when its database is new (or was left half
// made) and returns it, analysed.
func Load(tb testing.TB) Set {
	tb.Helper()
	ctx := context.Background()
	n, tenants, small := Size("BENCH_CUSTOMERS", 1_000_000), Size("BENCH_TENANTS", 100), Size("BENCH_SMALL", 10_000)
	db, _ := dbtest.Persistent(tb, fmt.Sprintf("chub_bench_%d_%d_%d", n, tenants, small), os.Getenv("BENCH_DATABASE"))
	start := time.Now()
	ts, err := demodata.Generate(ctx, db.App, demodata.Options{Tenants: tenants, Customers: n, SmallCustomers: small,
		SlugPrefix: "bench", PasswordHash: "x", Seed: 42}, os.Stderr)
	if err != nil {
		tb.Fatal(err)
	}
	if time.Since(start) > time.Minute {
		fmt.Fprintf(os.Stderr, "generated in %s; analyzing\n", time.Since(start).Round(time.Second))
		conn, err := pgx.Connect(ctx, dbtest.URLFor(db.Name, "postgres"))
		if err != nil {
			tb.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
			tb.Fatal(err)
		}
	}
	return Set{DB: db, Tenants: ts}
}
