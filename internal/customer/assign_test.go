package customer_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// assignBundle is a tenant with every kind of user the sales-rep rule
// tells apart: reps, a manager, a "lead" who sees only assigned customers
// but holds customers:assign, and a "clerk" who sees every customer
// without it.
type assignBundle struct {
	app                    *apptest.App
	tn                     apptest.Tenant
	rep, owner, manager    apptest.User
	lead, clerk            apptest.User
	owned, granted, leadOf map[string]any
}

func setupAssign(t *testing.T) assignBundle {
	t.Helper()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	for name, perms := range map[string][]string{
		"lead":  {"customers:read", "customers:write", "customers:assign"},
		"clerk": {"customers:read", "customers:write"},
	} {
		resp := app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": name, "permissions": perms})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	}
	b := assignBundle{app: app, tn: tn,
		rep: app.CreateUser(t, tn, "sales_rep", nil), owner: app.CreateUser(t, tn, "sales_rep", nil),
		manager: app.CreateUser(t, tn, "manager", nil),
		lead:    app.CreateUser(t, tn, "lead", map[string]any{"visibility": "assigned"}),
		clerk:   app.CreateUser(t, tn, "clerk", map[string]any{"visibility": "all"}),
	}
	b.owned = app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Rep's own", "sales_rep_id": b.rep.ID})
	// The owner's customer, granted to the rep and to the lead.
	b.granted = app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Owner's", "sales_rep_id": b.owner.ID})
	b.leadOf = app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Owner's too", "sales_rep_id": b.owner.ID})
	for user, c := range map[string]map[string]any{b.rep.ID: b.granted, b.lead.ID: b.leadOf} {
		resp := app.Post(t, "/v1/users/"+user+"/customer-grants", tn.AdminToken, map[string]any{"customer_id": c["id"]})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	}
	return b
}

// requireField checks a refusal naming sales_rep_id (at field) with code.
func requireField(t *testing.T, resp *apptest.Response, status int, field, code string) {
	t.Helper()
	require.Equal(t, status, resp.Status, "%s", resp.Body)
	var p struct {
		Errors []struct{ Field, Code string }
	}
	resp.JSON(t, &p)
	require.Len(t, p.Errors, 1, "%s", resp.Body)
	require.Equal(t, field, p.Errors[0].Field)
	require.Equal(t, code, p.Errors[0].Code)
}

func (b assignBundle) patchRep(t *testing.T, token string, c map[string]any, rep any) *apptest.Response {
	t.Helper()
	path := "/v1/customers/" + c["id"].(string)
	cur := b.app.Get(t, path, token)
	require.Equal(t, http.StatusOK, cur.Status, "%s", cur.Body)
	return b.app.Patch(t, path, token, cur.Header.Get("ETag"), map[string]any{"sales_rep_id": rep})
}

func (b assignBundle) repOf(t *testing.T, c map[string]any) any {
	t.Helper()
	return b.app.Get(t, "/v1/customers/"+c["id"].(string), b.tn.AdminToken).Map(t)["sales_rep_id"]
}

// TestSalesRepAssignmentRule: setting a customer's sales rep needs a user
// who sees every customer or customers:assign; a customer a rep creates
// is theirs.
func TestSalesRepAssignmentRule(t *testing.T) {
	t.Parallel()
	b := setupAssign(t)

	t.Run("RepCreatesTheirOwn", func(t *testing.T) {
		require.Equal(t, b.rep.ID, b.app.CreateCustomer(t, b.rep.Token, map[string]any{"name": "Found"})["sales_rep_id"])
		require.Equal(t, b.rep.ID, b.app.CreateCustomer(t, b.rep.Token, map[string]any{"name": "Named", "sales_rep_id": b.rep.ID})["sales_rep_id"])
		requireField(t, b.app.Post(t, "/v1/customers", b.rep.Token, map[string]any{"name": "For owner", "sales_rep_id": b.owner.ID}),
			http.StatusBadRequest, "sales_rep_id", "own_only")
		requireField(t, b.app.Post(t, "/v1/customers", b.rep.Token, map[string]any{"name": "For nobody", "sales_rep_id": nil}),
			http.StatusBadRequest, "sales_rep_id", "own_only")
	})
	t.Run("RepCannotTakeOverAGrantedCustomer", func(t *testing.T) {
		requireField(t, b.patchRep(t, b.rep.Token, b.granted, b.rep.ID), http.StatusBadRequest, "sales_rep_id", "not_allowed")
		require.Equal(t, b.owner.ID, b.repOf(t, b.granted))
		// Other changes to the granted customer stay allowed.
		path := "/v1/customers/" + b.granted["id"].(string)
		resp := b.app.Patch(t, path, b.rep.Token, b.app.Get(t, path, b.rep.Token).Header.Get("ETag"), map[string]any{"notes": "visited"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	})
	t.Run("RepCannotDropTheirOwn", func(t *testing.T) {
		requireField(t, b.patchRep(t, b.rep.Token, b.owned, nil), http.StatusBadRequest, "sales_rep_id", "not_allowed")
		requireField(t, b.patchRep(t, b.rep.Token, b.owned, b.owner.ID), http.StatusBadRequest, "sales_rep_id", "not_allowed")
		require.Equal(t, b.rep.ID, b.repOf(t, b.owned))
	})
	t.Run("ManagerAssigns", func(t *testing.T) {
		c := b.app.CreateCustomer(t, b.manager.Token, map[string]any{"name": "Managed", "sales_rep_id": b.owner.ID})
		require.Equal(t, b.owner.ID, c["sales_rep_id"])
		resp := b.patchRep(t, b.manager.Token, c, b.rep.ID)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, b.rep.ID, b.repOf(t, c))
	})
	t.Run("SeeingEveryCustomerSuffices", func(t *testing.T) {
		c := b.app.CreateCustomer(t, b.clerk.Token, map[string]any{"name": "Clerked", "sales_rep_id": b.owner.ID})
		resp := b.patchRep(t, b.clerk.Token, c, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Nil(t, b.repOf(t, c))
	})
	t.Run("AssignLetsAnAssignedUserTakeOver", func(t *testing.T) {
		// The lead may become the rep of a customer granted to them, but
		// cannot hand one to a rep: they would no longer see it.
		requireField(t, b.patchRep(t, b.lead.Token, b.leadOf, b.rep.ID), http.StatusBadRequest, "sales_rep_id", "own_only")
		resp := b.patchRep(t, b.lead.Token, b.leadOf, b.lead.ID)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, b.lead.ID, b.repOf(t, b.leadOf))
	})
	t.Run("Bulk", func(t *testing.T) {
		sel := map[string]any{"ids": ids(b.owned, b.granted)}
		for _, rep := range []any{b.rep.ID, nil} {
			for _, dry := range []bool{true, false} {
				requireField(t, b.app.Post(t, "/v1/customers/bulk-update", b.rep.Token, bulk(sel, map[string]any{"sales_rep_id": rep}, dry)),
					http.StatusUnprocessableEntity, "set.sales_rep_id", "not_allowed")
			}
		}
		// The rep's other bulk changes stay allowed.
		require.Equal(t, http.StatusOK, b.app.Post(t, "/v1/customers/bulk-update", b.rep.Token, bulk(sel, map[string]any{"status": "dormant"}, true)).Status)
		for _, token := range []string{b.manager.Token, b.clerk.Token} {
			resp := b.app.Post(t, "/v1/customers/bulk-update", token, bulk(sel, map[string]any{"sales_rep_id": b.owner.ID}, true))
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		}
		resp := b.app.Post(t, "/v1/customers/bulk-update", b.lead.Token, bulk(map[string]any{"ids": ids(b.leadOf)}, map[string]any{"sales_rep_id": b.lead.ID}, true))
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	})
}
