package customer_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/customer/fieldspec"
	"github.com/customerhub/customerhub/internal/customer/gen/fieldgen"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/settings"
)

// notFields are the customers table's columns that are deliberately not
// fields of the specification, each with the reason.
var notFields = map[string]string{
	"tenant_id":         "the tenant: set by the transaction, never by a client",
	"id":                "server-assigned identity",
	"version":           "optimistic concurrency counter (ETag), server-owned",
	"created_at":        "server-owned timestamp",
	"updated_at":        "server-owned timestamp",
	"custom":            "custom field values: a JSON object validated against the tenant's definitions (settings.Env), one spreadsheet column per definition",
	"city":              "copied from the primary location by the location writes",
	"country":           "copied from the primary location by the location writes",
	"order_count":       "figure maintained by order and payment writes",
	"total_order_value": "figure maintained by order and payment writes",
	"last_order_at":     "figure maintained by order and payment writes",
	"balance":           "figure maintained by order and payment writes",
	"overdue_amount":    "figure maintained by order and payment writes",
	"last_payment_at":   "figure maintained by order and payment writes (the dormant sweep reads it)",
	"reactivated_at":    "stamped by a trigger when a customer leaves the dormant status (the dormant sweep's window restarts)",
	"last_notice_at":    "stamped when an SMS receivable notice is sent (the minimum interval between two counts from it)",
	"search_text":       "generated column for the trigram search",
	"reach":             "visibility keys derived by customer_reach_refresh (migration 000010)",
}

// TestSpecificationMatchesTable fails when fieldspec.Customer and the
// migrated customers table disagree: a column that is neither a field nor
// listed in notFields, a field without its column, or a field whose kind
// or nullability does not fit its column.
func TestSpecificationMatchesTable(t *testing.T) {
	t.Parallel()
	db := dbtest.Shared(t)
	rows, err := db.App.Query(context.Background(), `
		SELECT column_name, data_type, is_nullable = 'YES'
		FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = 'customers'`)
	require.NoError(t, err)
	type column struct {
		typ      string
		nullable bool
	}
	columns := map[string]column{}
	for rows.Next() {
		var name string
		var c column
		require.NoError(t, rows.Scan(&name, &c.typ, &c.nullable))
		columns[name] = c
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, columns)

	wantType := map[fieldspec.Kind]string{
		fieldspec.Code: "text", fieldspec.Text: "text", fieldspec.Enum: "text", fieldspec.Email: "text",
		fieldspec.Phone: "text", fieldspec.URL: "text", fieldspec.TaxNumber: "text", fieldspec.Currency: "text",
		fieldspec.Percent: "numeric", fieldspec.Money: "numeric", fieldspec.Integer: "integer",
		fieldspec.Date: "date", fieldspec.Ref: "uuid",
	}
	inSpec := map[string]bool{}
	for _, f := range fieldspec.Customer {
		inSpec[f.Column] = true
		c, ok := columns[f.Column]
		require.True(t, ok, "field %s: no column %s in customers", f.Name, f.Column)
		require.Equal(t, wantType[f.Kind], c.typ, "field %s (%s): column type", f.Name, f.Kind)
		require.Equal(t, !f.NotNull, c.nullable, "field %s: NotNull must match the column's NOT NULL", f.Name)
		_, listed := notFields[f.Column]
		require.False(t, listed, "column %s is a field and also listed as not one", f.Column)
	}
	for name := range columns {
		if !inSpec[name] {
			_, ok := notFields[name]
			require.True(t, ok, "column customers.%s is neither a field of fieldspec.Customer nor listed in notFields with a reason", name)
		}
	}
	for name := range notFields {
		_, ok := columns[name]
		require.True(t, ok, "notFields lists %s, which customers no longer has", name)
	}
}

// TestGeneratedFieldsCurrent fails when fields_gen.go is not what the
// specification generates now (run go generate ./internal/customer).
func TestGeneratedFieldsCurrent(t *testing.T) {
	t.Parallel()
	want, err := fieldgen.Source()
	require.NoError(t, err)
	got, err := os.ReadFile("fields_gen.go")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "fields_gen.go is stale: run go generate ./internal/customer")
}

// TestSpecificationShape checks what the generated code relies on: names
// and columns are unique, enums have values, text and integers a
// maximum, references a target, and derived lists follow the spec.
func TestSpecificationShape(t *testing.T) {
	t.Parallel()
	names, cols := map[string]bool{}, map[string]bool{}
	for _, f := range fieldspec.Customer {
		require.False(t, names[f.Name], "duplicate field %s", f.Name)
		require.False(t, cols[f.Column], "duplicate column %s", f.Column)
		names[f.Name], cols[f.Column] = true, true
		switch f.Kind {
		case fieldspec.Enum:
			require.NotEmpty(t, f.Values, f.Name)
		case fieldspec.Text, fieldspec.TaxNumber, fieldspec.Integer:
			require.Positive(t, f.Max, f.Name)
		case fieldspec.Ref:
			require.NotEmpty(t, f.Ref, f.Name)
		}
		require.True(t, customer.IsField(f.Name), "fields= must accept %s", f.Name)
		require.False(t, f.NotNull && f.Requirable, "%s is always set; requiring it means nothing", f.Name)
	}
	require.Equal(t, fieldspec.Requirable(), settings.RequirableFields)
	require.Len(t, customer.Accessors(), len(fieldspec.Customer))
}

// TestFillEmpty: a merge fills the kept customer's empty fields from the
// duplicate, by each field's merge rule, in specification order.
func TestFillEmpty(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	rep := uuid.New()
	base := func() (dbsqlc.Customer, dbsqlc.Customer) {
		kept := dbsqlc.Customer{Code: "K", Name: "Kept", Kind: "customer", Type: "company", Status: "active",
			Email: str("kept@example.com"), Currency: str("USD")}
		dup := dbsqlc.Customer{Code: "D", Name: "Dup", Kind: "customer", Type: "individual", Status: "active",
			Email: str("dup@example.com"), Phone: str("+15551234567"), Notes: str("n"), SalesRepID: &rep,
			DiscountRate: ptrDec("5"), Currency: str("USD")}
		return kept, dup
	}
	allow := func(string) (customer.FillDecision, error) { return customer.FillAllowed, nil }

	t.Run("FillsAndKeeps", func(t *testing.T) {
		kept, dup := base()
		res, err := customer.FillEmpty(&kept, &dup, allow)
		require.NoError(t, err)
		require.Equal(t, []string{"phone", "discount_rate", "sales_rep_id", "notes"}, res.Filled)
		require.Equal(t, []string{"name", "type", "email"}, res.KeptValues, "the code is never reported; kind and status agree")
		require.Equal(t, "K", kept.Code)
		require.Equal(t, "kept@example.com", *kept.Email)
		require.Equal(t, "+15551234567", *kept.Phone)
		require.Equal(t, rep, *kept.SalesRepID)
	})
	t.Run("Decided", func(t *testing.T) {
		kept, dup := base()
		kept.Currency, dup.Currency = nil, str("EUR")
		var asked []string
		res, err := customer.FillEmpty(&kept, &dup, func(name string) (customer.FillDecision, error) {
			asked = append(asked, name)
			if name == "currency" {
				return customer.FillRefusedKept, nil
			}
			return customer.FillRefused, nil
		})
		require.NoError(t, err)
		require.Equal(t, []string{"currency", "sales_rep_id"}, asked, "only the fields whose fill the merge decides")
		require.Nil(t, kept.Currency)
		require.Nil(t, kept.SalesRepID)
		require.Contains(t, res.KeptValues, "currency")
		require.NotContains(t, res.KeptValues, "sales_rep_id")
	})
	t.Run("DecisionError", func(t *testing.T) {
		kept, dup := base()
		_, err := customer.FillEmpty(&kept, &dup, func(string) (customer.FillDecision, error) { return 0, errors.New("boom") })
		require.ErrorContains(t, err, "boom")
	})
}

func ptrDec(s string) *decimal.Decimal {
	d := decimal.RequireFromString(s)
	return &d
}
