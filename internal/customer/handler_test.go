package customer_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type testBundle struct {
	app *apptest.App
	tn  apptest.Tenant
}

func setup(t *testing.T) testBundle {
	t.Helper()
	app := apptest.New(t, dbtest.Shared(t), nil)
	return testBundle{app: app, tn: app.Signup(t)}
}

func TestCreate(t *testing.T) {
	t.Parallel()

	t.Run("GeneratesCodes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c1 := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "First"})
		// A hand-entered code that the generator would produce next is
		// skipped, not duplicated.
		b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Manual", "code": "C000002"})
		c3 := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Third"})
		require.Equal(t, "C000001", c1["code"])
		require.Equal(t, "C000003", c3["code"])
	})
	t.Run("Normalizes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/customers", b.tn.AdminToken, map[string]any{
			"name": "  Acme Ltd ", "email": "Buyer@ACME.example", "phone": "(415) 555-0101", "type": "individual",
		})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, `"1"`, resp.Header.Get("ETag"))
		c := resp.Map(t)
		require.Equal(t, "Acme Ltd", c["name"])
		require.Equal(t, "buyer@acme.example", c["email"])
		require.Equal(t, "+14155550101", c["phone"], "E.164 with the tenant's default country")
		require.Equal(t, "individual", c["type"])
		require.Equal(t, "active", c["status"])
		require.Nil(t, c["sales_rep_id"])
		require.Equal(t, "/v1/customers/"+c["id"].(string), resp.Header.Get("Location"))
	})
	t.Run("CodeTaken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "One", "code": "K-1"})
		resp := b.app.Post(t, "/v1/customers", b.tn.AdminToken, map[string]any{"name": "Two", "code": "K-1"})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "code_taken", resp.Map(t)["code"])
		// The same code in another tenant is fine.
		other := b.app.Signup(t)
		b.app.CreateCustomer(t, other.AdminToken, map[string]any{"name": "Elsewhere", "code": "K-1"})
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/customers", b.tn.AdminToken, map[string]any{
			"code": "has space", "email": "nope", "phone": "12345", "type": "robot", "status": "gone",
			"sales_rep_id": "0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a",
		})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		var p struct {
			Code   string
			Errors []struct{ Field, Code string }
		}
		resp.JSON(t, &p)
		require.Equal(t, "validation_failed", p.Code)
		fields := map[string]string{}
		for _, e := range p.Errors {
			fields[e.Field] = e.Code
		}
		require.Equal(t, map[string]string{
			"code": "invalid_code", "email": "invalid_email", "phone": "invalid_phone", "type": "invalid_choice", "status": "invalid_choice",
			"name": "required",
		}, fields)
	})
	t.Run("UnknownSalesRep", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := b.app.Signup(t)
		// A user of another tenant is as unknown as a random id.
		resp := b.app.Post(t, "/v1/customers", b.tn.AdminToken, map[string]any{"name": "X", "sales_rep_id": other.AdminID})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"sales_rep_id"`)
	})
	t.Run("ViewerCannotWrite", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
		resp := b.app.Post(t, "/v1/customers", viewer.Token, map[string]any{"name": "X"})
		require.Equal(t, http.StatusForbidden, resp.Status)
		require.Equal(t, "forbidden", resp.Map(t)["code"])
	})
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Before", "email": "a@b.example"})
	path := "/v1/customers/" + c["id"].(string)

	t.Run("NeedsIfMatch", func(t *testing.T) {
		resp := b.app.Do(t, apptest.Req{Method: http.MethodPatch, Path: path, Token: b.tn.AdminToken, Body: map[string]any{"name": "X"}})
		require.Equal(t, http.StatusPreconditionRequired, resp.Status)
	})
	t.Run("Success", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"name": "After", "email": nil})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		got := resp.Map(t)
		require.Equal(t, "After", got["name"])
		require.Nil(t, got["email"], "null clears a nullable field")
		require.Equal(t, c["code"], got["code"], "absent fields are left alone")
	})
	t.Run("Stale", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"name": "Lost update"})
		require.Equal(t, http.StatusPreconditionFailed, resp.Status)
		require.Equal(t, "After", b.app.Get(t, path, b.tn.AdminToken).Map(t)["name"])
	})
	t.Run("NameNotNullable", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"name": nil})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"name"`)
	})
}

func TestListAndSearch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	names := []string{"Delta", "alpha", "Charlie", "Bravo", "Echo 100% Co", "Foxtrot_1"}
	for _, n := range names {
		b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": n, "email": "x@" + "example.com"})
	}

	t.Run("PagesInNameOrder", func(t *testing.T) {
		var got []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			path := "/v1/customers?limit=4"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			var page struct {
				Items      []struct{ Name string }
				NextCursor *string `json:"next_cursor"`
			}
			resp := b.app.Get(t, path, b.tn.AdminToken)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
			resp.JSON(t, &page)
			for _, it := range page.Items {
				got = append(got, it.Name)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		// PostgreSQL's collation orders case-insensitively here; what
		// matters is every row once, in the database's name order.
		require.Len(t, got, len(names))
		require.ElementsMatch(t, names, got)
	})
	t.Run("Search", func(t *testing.T) {
		var page struct{ Items []struct{ Name string } }
		b.app.Get(t, "/v1/customers?q=ALPH", b.tn.AdminToken).JSON(t, &page)
		require.Len(t, page.Items, 1)
		require.Equal(t, "alpha", page.Items[0].Name)
		// LIKE wildcards in the search text match literally.
		b.app.Get(t, "/v1/customers?q=100%25", b.tn.AdminToken).JSON(t, &page)
		require.Len(t, page.Items, 1)
		b.app.Get(t, "/v1/customers?q=_", b.tn.AdminToken).JSON(t, &page)
		require.Len(t, page.Items, 1)
		require.Equal(t, "Foxtrot_1", page.Items[0].Name)
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Doomed"})
	path := "/v1/customers/" + c["id"].(string)

	manager := b.app.CreateUser(t, b.tn, "manager", nil)
	require.Equal(t, http.StatusForbidden, b.app.Delete(t, path, manager.Token).Status, "a manager adds and edits, not deletes")

	require.Equal(t, http.StatusNoContent, b.app.Delete(t, path, b.tn.AdminToken).Status)
	require.Equal(t, http.StatusNotFound, b.app.Get(t, path, b.tn.AdminToken).Status)
	require.Equal(t, http.StatusNotFound, b.app.Delete(t, path, b.tn.AdminToken).Status)

	t.Run("LinkedPortalUser", func(t *testing.T) {
		linked := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Has portal"})
		b.app.CreateUser(t, b.tn, "portal", map[string]any{"customer_id": linked["id"]})
		resp := b.app.Delete(t, "/v1/customers/"+linked["id"].(string), b.tn.AdminToken)
		require.Equal(t, http.StatusConflict, resp.Status)
	})
}

func TestPortalSeesOnlyItsAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mine := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Portal Co"})
	other := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Other Co"})
	portal := b.app.CreateUser(t, b.tn, "portal", map[string]any{"customer_id": mine["id"]})

	var page struct{ Items []map[string]any }
	b.app.Get(t, "/v1/customers", portal.Token).JSON(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, mine["id"], page.Items[0]["id"])
	require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customers/"+mine["id"].(string), portal.Token).Status)
	require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+other["id"].(string), portal.Token).Status)
	require.Equal(t, http.StatusForbidden, b.app.Post(t, "/v1/customers", portal.Token, map[string]any{"name": "X"}).Status)
}

// TestPatchAnswersAsGet: a PATCH answers with the customer exactly as a GET
// then shows it, ETag included: the after the service builds from the
// UPDATE's row (and the memberships it re-reads) is the stored customer,
// for a field change, a group change and a sales rep change alike.
func TestPatchAnswersAsGet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, map[string]any{"category": "region", "code": "NORTH", "name": "North"})
	c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Before", "credit_limit": "100"})
	path := "/v1/customers/" + c["id"].(string)
	for i, body := range []map[string]any{
		{"name": "After", "discount_rate": "2.5"},
		{"groups": map[string]any{"region": "NORTH"}},
		{"sales_rep_id": rep.ID, "notes": "handed over"},
		{"groups": map[string]any{"region": nil}, "credit_limit": nil},
	} {
		etag := fmt.Sprintf(`"%d"`, i+1)
		patched := b.app.Patch(t, path, b.tn.AdminToken, etag, body)
		require.Equal(t, http.StatusOK, patched.Status, "%s", patched.Body)
		got := b.app.Get(t, path, b.tn.AdminToken)
		require.Equal(t, got.Header.Get("ETag"), patched.Header.Get("ETag"))
		require.Equal(t, fmt.Sprintf(`"%d"`, i+2), patched.Header.Get("ETag"))
		require.Equal(t, got.Map(t), patched.Map(t), "patch %d", i)
	}
}
