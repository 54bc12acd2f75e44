package grant_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type testBundle struct {
	app *apptest.App
	tn  apptest.Tenant
	// rep is a sales rep (visibility assigned); customer belongs to
	// another rep, so rep cannot see it.
	rep      apptest.User
	customer map[string]any
}

func setup(t *testing.T) testBundle {
	t.Helper()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	owner := app.CreateUser(t, tn, "sales_rep", nil)
	return testBundle{
		app: app, tn: tn, rep: app.CreateUser(t, tn, "sales_rep", nil),
		customer: app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Granted Co", "code": "G-1", "sales_rep_id": owner.ID}),
	}
}

func (b testBundle) grantsPath(userID string) string {
	return "/v1/users/" + userID + "/customer-grants"
}

type grant struct {
	UserID     string  `json:"user_id"`
	CustomerID string  `json:"customer_id"`
	CreatedAt  string  `json:"created_at"`
	CreatedBy  *string `json:"created_by"`
	Customer   struct {
		ID   string `json:"id"`
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"customer"`
}

type grantList struct {
	Items      []grant `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

type problem struct {
	Code   string
	Detail string
	Errors []struct{ Field, Code string }
}

// sees reports whether the user sees the customer, checking that GET, the
// customer list and the customer's locations agree.
func sees(t *testing.T, b testBundle, token, customerID string) bool {
	t.Helper()
	status := b.app.Get(t, "/v1/customers/"+customerID, token).Status
	require.Contains(t, []int{http.StatusOK, http.StatusNotFound}, status)
	var list struct{ Items []struct{ ID string } }
	b.app.Get(t, "/v1/customers?limit=200", token).JSON(t, &list)
	listed := false
	for _, it := range list.Items {
		listed = listed || it.ID == customerID
	}
	require.Equal(t, status == http.StatusOK, listed, "the customer list agrees with GET")
	require.Equal(t, status, b.app.Get(t, "/v1/customers/"+customerID+"/locations", token).Status)
	return status == http.StatusOK
}

func TestGrantVisibility(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.customer["id"].(string)
	loc := b.app.Post(t, "/v1/customers/"+c+"/locations", b.tn.AdminToken, map[string]any{
		"label": "HQ", "line1": "1 Main St", "city": "Boston", "country": "US", "kinds": []string{"billing"},
	})
	require.Equal(t, http.StatusCreated, loc.Status, "%s", loc.Body)
	locPath := "/v1/locations/" + loc.Map(t)["id"].(string)

	require.False(t, sees(t, b, b.rep.Token, c))
	require.Equal(t, http.StatusNotFound, b.app.Get(t, locPath, b.rep.Token).Status)

	resp := b.app.Post(t, b.grantsPath(b.rep.ID), b.tn.AdminToken, map[string]any{"customer_id": c})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var g grant
	resp.JSON(t, &g)
	require.Equal(t, b.rep.ID, g.UserID)
	require.Equal(t, c, g.CustomerID)
	require.Equal(t, b.tn.AdminID, *g.CreatedBy)
	require.NotEmpty(t, g.CreatedAt)
	require.Equal(t, "G-1", g.Customer.Code)
	require.Equal(t, "Granted Co", g.Customer.Name)

	require.True(t, sees(t, b, b.rep.Token, c))
	require.Equal(t, http.StatusOK, b.app.Get(t, locPath, b.rep.Token).Status)
	cust := b.app.Get(t, "/v1/customers/"+c, b.rep.Token)
	patched := b.app.Patch(t, "/v1/customers/"+c, b.rep.Token, cust.Header.Get("ETag"), map[string]any{"name": "Granted Co (edited)"})
	require.Equal(t, http.StatusOK, patched.Status, "%s", patched.Body)

	t.Run("AlreadyGranted", func(t *testing.T) {
		resp := b.app.Post(t, b.grantsPath(b.rep.ID), b.tn.AdminToken, map[string]any{"customer_id": c})
		require.Equal(t, http.StatusConflict, resp.Status)
		var p problem
		resp.JSON(t, &p)
		require.Equal(t, "already_granted", p.Code)
	})

	t.Run("Revoke", func(t *testing.T) {
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, b.grantsPath(b.rep.ID)+"/"+c, b.tn.AdminToken).Status)
		require.False(t, sees(t, b, b.rep.Token, c))
		require.Equal(t, http.StatusNotFound, b.app.Get(t, locPath, b.rep.Token).Status)
		require.Equal(t, http.StatusNotFound, b.app.Delete(t, b.grantsPath(b.rep.ID)+"/"+c, b.tn.AdminToken).Status)
		var list grantList
		b.app.Get(t, b.grantsPath(b.rep.ID), b.tn.AdminToken).JSON(t, &list)
		require.Empty(t, list.Items)
	})

	t.Run("Audited", func(t *testing.T) {
		type event struct {
			Action  string
			Changes map[string]struct{ From, To any }
		}
		var events []event
		err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(b.tn.ID)),
			func(ctx context.Context, tx database.Tx) error {
				rows, err := tx.Query(ctx, "SELECT action, changes FROM audit_events WHERE tenant_id = $1 AND entity = 'grant' AND entity_id = $2 ORDER BY at",
					tx.TenantID(), uuid.MustParse(b.rep.ID))
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var e event
					var raw []byte
					if err := rows.Scan(&e.Action, &raw); err != nil {
						return err
					}
					if err := json.Unmarshal(raw, &e.Changes); err != nil {
						return err
					}
					events = append(events, e)
				}
				return rows.Err()
			}, database.ReadOnly)
		require.NoError(t, err)
		require.Len(t, events, 2)
		require.Equal(t, "create", events[0].Action)
		require.Equal(t, c, events[0].Changes["customer_id"].To)
		require.Equal(t, "delete", events[1].Action)
		require.Equal(t, c, events[1].Changes["customer_id"].From)
	})
}

func TestCreateErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.customer["id"].(string)
	other := b.app.Signup(t)
	otherCustomer := b.app.CreateCustomer(t, other.AdminToken, map[string]any{"name": "Elsewhere"})

	for _, tc := range []struct {
		name   string
		user   string
		body   any
		status int
		detail string
		field  string
	}{
		{"UnknownUser", uuid.NewString(), map[string]any{"customer_id": c}, http.StatusNotFound, "user not found", ""},
		{"OtherTenantsUser", other.AdminID, map[string]any{"customer_id": c}, http.StatusNotFound, "user not found", ""},
		{"UnknownUserBeforeBody", uuid.NewString(), map[string]any{}, http.StatusNotFound, "user not found", ""},
		{"UnknownCustomer", b.rep.ID, map[string]any{"customer_id": uuid.NewString()}, http.StatusNotFound, "customer not found", "customer_id"},
		{"OtherTenantsCustomer", b.rep.ID, map[string]any{"customer_id": otherCustomer["id"]}, http.StatusNotFound, "customer not found", "customer_id"},
		{"MissingCustomer", b.rep.ID, map[string]any{}, http.StatusBadRequest, "", "customer_id"},
		{"NullCustomer", b.rep.ID, map[string]any{"customer_id": nil}, http.StatusBadRequest, "", "customer_id"},
		{"MalformedCustomer", b.rep.ID, map[string]any{"customer_id": "C-1"}, http.StatusBadRequest, "", "customer_id"},
		{"UnknownField", b.rep.ID, map[string]any{"customer_id": c, "user_id": b.rep.ID}, http.StatusBadRequest, "", "user_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := b.app.Post(t, b.grantsPath(tc.user), b.tn.AdminToken, tc.body)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			var p problem
			resp.JSON(t, &p)
			if tc.detail != "" {
				require.Equal(t, tc.detail, p.Detail)
			}
			if tc.field != "" {
				require.Len(t, p.Errors, 1, "%s", resp.Body)
				require.Equal(t, tc.field, p.Errors[0].Field)
			}
		})
	}
	var list grantList
	b.app.Get(t, b.grantsPath(b.rep.ID), b.tn.AdminToken).JSON(t, &list)
	require.Empty(t, list.Items, "nothing was granted")
}

func TestList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	names := []string{"Charlie", "alpha", "Bravo", "Delta"}
	for _, n := range names {
		c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": n})
		resp := b.app.Post(t, b.grantsPath(b.rep.ID), b.tn.AdminToken, map[string]any{"customer_id": c["id"]})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	}
	// Another user's grants stay out of this user's list.
	colleague := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	require.Equal(t, http.StatusCreated,
		b.app.Post(t, b.grantsPath(colleague.ID), b.tn.AdminToken, map[string]any{"customer_id": b.customer["id"]}).Status)

	var got []string
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		path := b.grantsPath(b.rep.ID) + "?limit=3"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		resp := b.app.Get(t, path, b.tn.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var page grantList
		resp.JSON(t, &page)
		for _, g := range page.Items {
			require.Equal(t, b.rep.ID, g.UserID)
			require.Equal(t, g.CustomerID, g.Customer.ID)
			require.NotEmpty(t, g.Customer.Code)
			got = append(got, g.Customer.Name)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	// Every grant once, in the database's name order (its collation
	// decides where "alpha" goes).
	require.ElementsMatch(t, names, got)
	require.Equal(t, "Bravo", got[indexOf(got, "Charlie")-1])

	require.Equal(t, http.StatusNotFound, b.app.Get(t, b.grantsPath(uuid.NewString()), b.tn.AdminToken).Status)
	resp := b.app.Get(t, b.grantsPath(b.rep.ID)+"?cursor=nope", b.tn.AdminToken)
	require.Equal(t, http.StatusBadRequest, resp.Status)
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.customer["id"].(string)
	require.Equal(t, http.StatusCreated, b.app.Post(t, b.grantsPath(b.rep.ID), b.tn.AdminToken, map[string]any{"customer_id": c}).Status)
	other := b.app.Signup(t)
	otherUser := b.app.CreateUser(t, other, "sales_rep", nil)

	for name, resp := range map[string]*apptest.Response{
		"Get":             b.app.Get(t, b.grantsPath(b.rep.ID), other.AdminToken),
		"Create":          b.app.Post(t, b.grantsPath(b.rep.ID), other.AdminToken, map[string]any{"customer_id": c}),
		"Delete":          b.app.Delete(t, b.grantsPath(b.rep.ID)+"/"+c, other.AdminToken),
		"DeleteMalformed": b.app.Delete(t, b.grantsPath(b.rep.ID)+"/:customer_id", other.AdminToken),
		"GrantOwnUserTheirCustomer": b.app.Post(t, b.grantsPath(otherUser.ID), other.AdminToken,
			map[string]any{"customer_id": c}),
	} {
		require.Equal(t, http.StatusNotFound, resp.Status, "%s: %s", name, resp.Body)
		var p problem
		resp.JSON(t, &p)
		require.Equal(t, "not_found", p.Code, name)
	}
	require.False(t, sees(t, b, otherUser.Token, c))

	// A's grant is intact.
	var list grantList
	b.app.Get(t, b.grantsPath(b.rep.ID), b.tn.AdminToken).JSON(t, &list)
	require.Len(t, list.Items, 1)
	require.True(t, sees(t, b, b.rep.Token, c))
	// A malformed customer id of an existing user is a 400.
	require.Equal(t, http.StatusBadRequest, b.app.Delete(t, b.grantsPath(b.rep.ID)+"/nope", b.tn.AdminToken).Status)
}

func TestNeedsUsersManage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.customer["id"].(string)
	manager := b.app.CreateUser(t, b.tn, "manager", nil)
	for _, token := range []string{b.rep.Token, manager.Token} {
		require.Equal(t, http.StatusForbidden, b.app.Post(t, b.grantsPath(b.rep.ID), token, map[string]any{"customer_id": c}).Status)
		require.Equal(t, http.StatusForbidden, b.app.Get(t, b.grantsPath(b.rep.ID), token).Status)
		require.Equal(t, http.StatusForbidden, b.app.Delete(t, b.grantsPath(b.rep.ID)+"/"+c, token).Status)
	}
	require.False(t, sees(t, b, b.rep.Token, c), "the rep could not grant themselves the customer")
}
