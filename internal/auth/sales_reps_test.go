package auth_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestSalesReps: GET /v1/sales-reps lists the tenant's active staff by
// name (id, name, role: no e-mail) to anyone who reads customers, pages
// by cursor, leaves out disabled users, portal logins and other tenants,
// and refuses a portal user.
func TestSalesReps(t *testing.T) {
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	other := app.Signup(t)
	manager := app.CreateUser(t, tn, "manager", nil)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	gone := app.CreateUser(t, tn, "sales_rep", nil)
	require.Equal(t, http.StatusNoContent, app.Delete(t, "/v1/users/"+gone.ID, tn.AdminToken).Status)
	cust := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Portal Co"})
	portal := app.CreateUser(t, tn, "portal", map[string]any{"customer_id": cust["id"]})

	var out struct {
		Items      []map[string]any `json:"items"`
		NextCursor *string          `json:"next_cursor"`
	}
	for _, token := range []string{tn.AdminToken, manager.Token, rep.Token} {
		resp := app.Get(t, "/v1/sales-reps", token)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		resp.JSON(t, &out)
		var ids []any
		for _, it := range out.Items {
			require.ElementsMatch(t, []string{"id", "name", "role"}, keys(it), "no e-mail, status or reach")
			ids = append(ids, it["id"])
		}
		require.ElementsMatch(t, []any{tn.AdminID, manager.ID, rep.ID}, ids, "active staff of this tenant only")
	}

	// Paged by name, one at a time, the same three.
	var seen []any
	path := "/v1/sales-reps?limit=1"
	for range 5 {
		app.Get(t, path, manager.Token).JSON(t, &out)
		for _, it := range out.Items {
			seen = append(seen, it["id"])
		}
		if out.NextCursor == nil {
			break
		}
		path = "/v1/sales-reps?limit=1&cursor=" + *out.NextCursor
	}
	require.ElementsMatch(t, []any{tn.AdminID, manager.ID, rep.ID}, seen)

	require.Equal(t, http.StatusForbidden, app.Get(t, "/v1/sales-reps", portal.Token).Status, "a customer's own login does not see the staff")
	app.Get(t, "/v1/sales-reps", other.AdminToken).JSON(t, &out)
	require.Len(t, out.Items, 1, "another tenant sees its own admin only")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
