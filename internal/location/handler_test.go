package location_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
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
}

func setup(t *testing.T) testBundle {
	t.Helper()
	app := apptest.New(t, dbtest.Shared(t), nil)
	return testBundle{app: app, tn: app.Signup(t)}
}

// location is the part of a location response the tests read.
type location struct {
	ID              string   `json:"id"`
	CustomerID      string   `json:"customer_id"`
	Label           string   `json:"label"`
	Line2           *string  `json:"line2"`
	City            string   `json:"city"`
	Country         string   `json:"country"`
	Phone           *string  `json:"phone"`
	Kinds           []string `json:"kinds"`
	DefaultBilling  bool     `json:"default_billing"`
	DefaultShipping bool     `json:"default_shipping"`
	SalesRepID      *string  `json:"sales_rep_id"`
	Version         int64    `json:"version"`
	Customer        struct {
		ID   string `json:"id"`
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"customer"`
}

type locationList struct {
	Items      []location `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

type problem struct {
	Code   string
	Detail string
	Errors []struct{ Field, Code string }
}

func (p problem) fields() map[string]string {
	out := map[string]string{}
	for _, e := range p.Errors {
		out[e.Field] = e.Code
	}
	return out
}

func customer(t *testing.T, b testBundle, name string, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"name": name}
	for k, v := range extra {
		body[k] = v
	}
	return b.app.CreateCustomer(t, b.tn.AdminToken, body)["id"].(string)
}

// addr is a valid location body with the given label, city and kinds.
func addr(label, city, country string, kinds ...string) map[string]any {
	return map[string]any{"label": label, "line1": "1 Main St", "city": city, "country": country, "kinds": kinds}
}

func createLocation(t *testing.T, b testBundle, token, customerID string, body map[string]any) location {
	t.Helper()
	resp := b.app.Post(t, "/v1/customers/"+customerID+"/locations", token, body)
	require.Equal(t, http.StatusCreated, resp.Status, "create location: %s", resp.Body)
	var l location
	resp.JSON(t, &l)
	return l
}

func getLocation(t *testing.T, b testBundle, token, id string) (location, string) {
	t.Helper()
	resp := b.app.Get(t, "/v1/locations/"+id, token)
	require.Equal(t, http.StatusOK, resp.Status, "get location: %s", resp.Body)
	var l location
	resp.JSON(t, &l)
	return l, resp.Header.Get("ETag")
}

func customerLocations(t *testing.T, b testBundle, token, customerID string) []location {
	t.Helper()
	resp := b.app.Get(t, "/v1/customers/"+customerID+"/locations", token)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var list locationList
	resp.JSON(t, &list)
	require.Nil(t, list.NextCursor)
	return list.Items
}

// primaryAddress reads the customer's city, country and version straight
// from the customers table (the customer API does not show them yet).
func primaryAddress(t *testing.T, b testBundle, customerID string) (city, country *string, version int64) {
	t.Helper()
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(b.tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			return tx.QueryRow(ctx, "SELECT city, country, version FROM customers WHERE tenant_id = $1 AND id = $2",
				tx.TenantID(), uuid.MustParse(customerID)).Scan(&city, &country, &version)
		}, database.ReadOnly)
	require.NoError(t, err)
	return city, country, version
}

func requireCity(t *testing.T, b testBundle, customerID string, city, country string) {
	t.Helper()
	gotCity, gotCountry, version := primaryAddress(t, b, customerID)
	if city == "" {
		require.Nil(t, gotCity)
		require.Nil(t, gotCountry)
	} else {
		require.NotNil(t, gotCity)
		require.Equal(t, city, *gotCity)
		require.Equal(t, country, *gotCountry)
	}
	require.EqualValues(t, 1, version, "the derived address does not bump the customer's version")
}

func TestCreate(t *testing.T) {
	t.Parallel()

	t.Run("Success", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
		cust := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Acme", "code": "ACME"})
		resp := b.app.Post(t, "/v1/customers/"+cust["id"].(string)+"/locations", b.tn.AdminToken, map[string]any{
			"label": " Head office ", "line1": "Unter den Linden 1", "line2": "", "city": "Berlin", "region": "BE",
			"postal_code": "10117", "country": "de", "phone": "030 1234567",
			"kinds": []string{"shipping", "billing", "shipping"}, "sales_rep_id": rep.ID,
		})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, `"1"`, resp.Header.Get("ETag"))
		var l location
		resp.JSON(t, &l)
		require.Equal(t, "/v1/locations/"+l.ID, resp.Header.Get("Location"))
		require.Equal(t, "Head office", l.Label)
		require.Nil(t, l.Line2, "blank optional text is null")
		require.Equal(t, "DE", l.Country)
		require.Equal(t, "+49301234567", *l.Phone, "E.164, read in the location's country")
		require.Equal(t, []string{"billing", "shipping"}, l.Kinds, "duplicates collapse, canonical order")
		require.True(t, l.DefaultBilling, "the customer's first billing location becomes its default")
		require.True(t, l.DefaultShipping)
		require.Equal(t, rep.ID, *l.SalesRepID)
		require.Equal(t, cust["id"], l.CustomerID)
		require.Equal(t, "ACME", l.Customer.Code)
		require.Equal(t, "Acme", l.Customer.Name)

		got, etag := getLocation(t, b, b.tn.AdminToken, l.ID)
		require.Equal(t, l, got)
		require.Equal(t, `"1"`, etag)
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := customer(t, b, "V", nil)
		path := "/v1/customers/" + c + "/locations"
		for _, tc := range []struct {
			name string
			body map[string]any
			want map[string]string
		}{
			{"Missing", map[string]any{},
				map[string]string{"label": "required", "line1": "required", "city": "required", "country": "required", "kinds": "required"}},
			{"BadValues", map[string]any{"label": strings.Repeat("x", 101), "line1": "x", "city": "x", "country": "XX",
				"postal_code": "123456789012345678901", "phone": "12345", "kinds": []string{}},
				map[string]string{"label": "too_long", "country": "invalid_country", "postal_code": "too_long",
					"phone": "invalid_phone", "kinds": "required"}},
			{"UnknownKind", map[string]any{"label": "x", "line1": "x", "city": "x", "country": "US", "kinds": []string{"billing", "warehouse"}},
				map[string]string{"kinds": "invalid_choice"}},
			{"CountryNotAlpha2", map[string]any{"label": "x", "line1": "x", "city": "x", "country": "USA", "kinds": []string{"billing"}},
				map[string]string{"country": "invalid_country"}},
			{"DefaultWithoutKind", map[string]any{"label": "x", "line1": "x", "city": "x", "country": "US", "kinds": []string{"shipping"},
				"default_billing": true, "default_shipping": true},
				map[string]string{"default_billing": "kind_missing"}},
			{"NullRequired", map[string]any{"label": nil, "line1": "x", "city": "x", "country": "US", "kinds": []string{"contact"}},
				map[string]string{"label": "not_nullable"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := b.app.Post(t, path, b.tn.AdminToken, tc.body)
				require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
				var p problem
				resp.JSON(t, &p)
				require.Equal(t, tc.want, p.fields(), "%s", resp.Body)
			})
		}
		require.Empty(t, customerLocations(t, b, b.tn.AdminToken, c), "nothing was written")
	})
	t.Run("UnknownSalesRep", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := customer(t, b, "R", nil)
		other := b.app.Signup(t)
		disabled := b.app.CreateUser(t, b.tn, "sales_rep", nil)
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/users/"+disabled.ID, b.tn.AdminToken).Status)
		for _, rep := range []string{other.AdminID, disabled.ID, uuid.NewString()} {
			body := addr("HQ", "Boston", "US", "billing")
			body["sales_rep_id"] = rep
			resp := b.app.Post(t, "/v1/customers/"+c+"/locations", b.tn.AdminToken, body)
			require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
			var p problem
			resp.JSON(t, &p)
			require.Equal(t, map[string]string{"sales_rep_id": "not_found"}, p.fields())
		}
	})
	t.Run("CustomerNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/customers/"+uuid.NewString()+"/locations", b.tn.AdminToken, addr("HQ", "Boston", "US", "billing"))
		require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
		// An unknown customer is a 404 even with an invalid body.
		resp = b.app.Post(t, "/v1/customers/"+uuid.NewString()+"/locations", b.tn.AdminToken, map[string]any{})
		require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
	})
	t.Run("ViewerCannotWrite", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := customer(t, b, "W", nil)
		viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
		resp := b.app.Post(t, "/v1/customers/"+c+"/locations", viewer.Token, addr("HQ", "Boston", "US", "billing"))
		require.Equal(t, http.StatusForbidden, resp.Status)
		require.Len(t, customerLocations(t, b, viewer.Token, c), 0, "a viewer reads")
	})
	t.Run("IdempotentReplay", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := customer(t, b, "Idem", nil)
		req := apptest.Req{Method: http.MethodPost, Path: "/v1/customers/" + c + "/locations", Token: b.tn.AdminToken,
			Body: addr("HQ", "Boston", "US", "billing"), Headers: map[string]string{"Idempotency-Key": "loc-" + uuid.NewString()}}
		first := b.app.Do(t, req)
		require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
		again := b.app.Do(t, req)
		require.Equal(t, http.StatusCreated, again.Status)
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.Equal(t, string(first.Body), string(again.Body))
		require.Equal(t, first.Header.Get("ETag"), again.Header.Get("ETag"))
		require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
		require.Len(t, customerLocations(t, b, b.tn.AdminToken, c), 1)

		req.Body = addr("Other", "Boston", "US", "billing")
		require.Equal(t, http.StatusUnprocessableEntity, b.app.Do(t, req).Status)
		require.Len(t, customerLocations(t, b, b.tn.AdminToken, c), 1)
	})
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := customer(t, b, "Defaults Co", nil)
	first := createLocation(t, b, b.tn.AdminToken, c, addr("A", "Austin", "US", "billing", "shipping"))
	second := createLocation(t, b, b.tn.AdminToken, c, addr("B", "Boise", "US", "billing", "shipping"))
	require.True(t, first.DefaultBilling)
	require.True(t, first.DefaultShipping)
	require.False(t, second.DefaultBilling, "the customer already has a default billing location")
	require.False(t, second.DefaultShipping)

	defaults := func(t *testing.T) (billing, shipping []string) {
		t.Helper()
		for _, l := range customerLocations(t, b, b.tn.AdminToken, c) {
			if l.DefaultBilling {
				billing = append(billing, l.Label)
			}
			if l.DefaultShipping {
				shipping = append(shipping, l.Label)
			}
		}
		return billing, shipping
	}

	t.Run("MoveByPatch", func(t *testing.T) {
		resp := b.app.Patch(t, "/v1/locations/"+second.ID, b.tn.AdminToken, `"1"`, map[string]any{"default_billing": true})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		billing, shipping := defaults(t)
		require.Equal(t, []string{"B"}, billing)
		require.Equal(t, []string{"A"}, shipping)
		// The location that lost its flag changed, so its ETag did too.
		got, etag := getLocation(t, b, b.tn.AdminToken, first.ID)
		require.False(t, got.DefaultBilling)
		require.Equal(t, `"2"`, etag)
		require.Equal(t, http.StatusPreconditionFailed,
			b.app.Patch(t, "/v1/locations/"+first.ID, b.tn.AdminToken, `"1"`, map[string]any{"default_billing": true}).Status)
	})
	t.Run("MoveByCreate", func(t *testing.T) {
		body := addr("C", "Chicago", "US", "billing", "shipping")
		body["default_billing"], body["default_shipping"] = true, true
		third := createLocation(t, b, b.tn.AdminToken, c, body)
		require.True(t, third.DefaultBilling)
		billing, shipping := defaults(t)
		require.Equal(t, []string{"C"}, billing)
		require.Equal(t, []string{"C"}, shipping)
	})
	t.Run("ExplicitFalseIsKept", func(t *testing.T) {
		c2 := customer(t, b, "No default Co", nil)
		body := addr("A", "Austin", "US", "billing")
		body["default_billing"] = false
		require.False(t, createLocation(t, b, b.tn.AdminToken, c2, body).DefaultBilling)
	})
	t.Run("DefaultNeedsKind", func(t *testing.T) {
		contact := createLocation(t, b, b.tn.AdminToken, c, addr("D", "Denver", "US", "contact"))
		resp := b.app.Patch(t, "/v1/locations/"+contact.ID, b.tn.AdminToken, `"1"`, map[string]any{"default_shipping": true})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		var p problem
		resp.JSON(t, &p)
		require.Equal(t, map[string]string{"default_shipping": "kind_missing"}, p.fields())

		// C is the default billing location: dropping its billing kind
		// alone would break the rule, so it is refused too.
		third := customerLocations(t, b, b.tn.AdminToken, c)[2]
		require.Equal(t, "C", third.Label)
		resp = b.app.Patch(t, "/v1/locations/"+third.ID, b.tn.AdminToken, `"1"`, map[string]any{"kinds": []string{"shipping"}})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		resp.JSON(t, &p)
		require.Equal(t, map[string]string{"default_billing": "kind_missing"}, p.fields())
		resp = b.app.Patch(t, "/v1/locations/"+third.ID, b.tn.AdminToken, `"1"`,
			map[string]any{"kinds": []string{"shipping"}, "default_billing": false})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		billing, _ := defaults(t)
		require.Empty(t, billing, "clearing the flag promotes no other location")
	})
}

func TestPrimaryAddress(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := customer(t, b, "Primary Co", nil)
	requireCity(t, b, c, "", "")

	ship := createLocation(t, b, b.tn.AdminToken, c, addr("Warehouse", "Hamburg", "DE", "shipping"))
	requireCity(t, b, c, "Hamburg", "DE")

	contact := createLocation(t, b, b.tn.AdminToken, c, addr("Sales office", "Paris", "FR", "contact"))
	requireCity(t, b, c, "Hamburg", "DE")

	bill := createLocation(t, b, b.tn.AdminToken, c, addr("Accounts", "Vienna", "AT", "billing"))
	requireCity(t, b, c, "Vienna", "AT")

	resp := b.app.Patch(t, "/v1/locations/"+bill.ID, b.tn.AdminToken, `"1"`, map[string]any{"city": "Graz"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	requireCity(t, b, c, "Graz", "AT")

	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/locations/"+bill.ID, b.tn.AdminToken).Status)
	requireCity(t, b, c, "Hamburg", "DE")
	for _, l := range customerLocations(t, b, b.tn.AdminToken, c) {
		require.False(t, l.DefaultBilling, "no location is promoted to default billing")
	}

	resp = b.app.Patch(t, "/v1/locations/"+ship.ID, b.tn.AdminToken, `"1"`, map[string]any{"default_shipping": false})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	requireCity(t, b, c, "Hamburg", "DE") // no default left: the oldest

	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/locations/"+ship.ID, b.tn.AdminToken).Status)
	requireCity(t, b, c, "Paris", "FR")
	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/locations/"+contact.ID, b.tn.AdminToken).Status)
	requireCity(t, b, c, "", "")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := customer(t, b, "Update Co", nil)
	body := addr("HQ", "Boston", "US", "billing")
	body["line2"] = "Suite 5"
	l := createLocation(t, b, b.tn.AdminToken, c, body)
	path := "/v1/locations/" + l.ID

	t.Run("NeedsIfMatch", func(t *testing.T) {
		resp := b.app.Do(t, apptest.Req{Method: http.MethodPatch, Path: path, Token: b.tn.AdminToken, Body: map[string]any{"label": "X"}})
		require.Equal(t, http.StatusPreconditionRequired, resp.Status)
	})
	t.Run("Success", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"label": "Main", "line2": nil, "phone": "+1 617 555 0100"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		var got location
		resp.JSON(t, &got)
		require.Equal(t, "Main", got.Label)
		require.Nil(t, got.Line2, "null clears a nullable field")
		require.Equal(t, "+16175550100", *got.Phone)
		require.Equal(t, "Boston", got.City, "absent fields are left alone")
		require.True(t, got.DefaultBilling)
	})
	t.Run("Stale", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"label": "Lost update"})
		require.Equal(t, http.StatusPreconditionFailed, resp.Status)
		got, _ := getLocation(t, b, b.tn.AdminToken, l.ID)
		require.Equal(t, "Main", got.Label)
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{
			"label": nil, "customer_id": uuid.NewString(), "country": "ZZ", "kinds": []string{"depot"},
		})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		var p problem
		resp.JSON(t, &p)
		require.Equal(t, map[string]string{"label": "not_nullable", "customer_id": "immutable"}, p.fields(),
			"shape errors are reported before the location is read")
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"country": "ZZ", "kinds": []string{"depot"}})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		resp.JSON(t, &p)
		require.Equal(t, map[string]string{"country": "invalid_country", "kinds": "invalid_choice"}, p.fields())
		_, etag := getLocation(t, b, b.tn.AdminToken, l.ID)
		require.Equal(t, `"2"`, etag)
	})
	t.Run("CountryChangeRereadsPhone", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"country": "gb", "phone": "020 7946 0018"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var got location
		resp.JSON(t, &got)
		require.Equal(t, "GB", got.Country)
		require.Equal(t, "+442079460018", *got.Phone)
		requireCity(t, b, c, "Boston", "GB")
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := customer(t, b, "Delete Co", nil)
	l := createLocation(t, b, b.tn.AdminToken, c, addr("HQ", "Boston", "US", "billing"))
	path := "/v1/locations/" + l.ID

	viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
	require.Equal(t, http.StatusForbidden, b.app.Delete(t, path, viewer.Token).Status)

	require.Equal(t, http.StatusNoContent, b.app.Delete(t, path, b.tn.AdminToken).Status)
	require.Equal(t, http.StatusNotFound, b.app.Get(t, path, b.tn.AdminToken).Status)
	require.Equal(t, http.StatusNotFound, b.app.Delete(t, path, b.tn.AdminToken).Status)
	require.Equal(t, http.StatusNotFound, b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"label": "X"}).Status)
	require.Empty(t, customerLocations(t, b, b.tn.AdminToken, c))

	// The trail has the create and the delete, with the deleted values.
	var actions []string
	var deletedCity any
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(b.tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			rows, err := tx.Query(ctx, "SELECT action, changes->'city'->'from' FROM audit_events WHERE tenant_id = $1 AND entity = 'location' AND entity_id = $2 ORDER BY at",
				tx.TenantID(), uuid.MustParse(l.ID))
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var action string
				var from any
				if err := rows.Scan(&action, &from); err != nil {
					return err
				}
				actions = append(actions, action)
				if action == "delete" {
					deletedCity = from
				}
			}
			return rows.Err()
		}, database.ReadOnly)
	require.NoError(t, err)
	require.Equal(t, []string{"create", "delete"}, actions)
	require.Equal(t, "Boston", deletedCity)
}

func TestList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	zulu := customer(t, b, "Zulu Ltd", nil)
	alpha := customer(t, b, "Alpha Inc", nil)
	mike := customer(t, b, "Mike GmbH", nil)
	createLocation(t, b, b.tn.AdminToken, zulu, addr("Depot", "Lyon", "FR", "shipping"))
	createLocation(t, b, b.tn.AdminToken, alpha, addr("West", "Boston", "US", "billing"))
	withRep := addr("East", "boston", "US", "shipping")
	withRep["sales_rep_id"] = rep.ID
	createLocation(t, b, b.tn.AdminToken, alpha, withRep)
	createLocation(t, b, b.tn.AdminToken, mike, addr("Berlin", "Berlin", "DE", "billing", "contact"))
	createLocation(t, b, b.tn.AdminToken, mike, addr("Aachen", "Aachen", "DE", "contact"))

	labels := func(t *testing.T, query string) []string {
		t.Helper()
		var out []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			path := "/v1/locations?limit=2" + query
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			resp := b.app.Get(t, path, b.tn.AdminToken)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
			var page locationList
			resp.JSON(t, &page)
			require.LessOrEqual(t, len(page.Items), 2)
			for _, l := range page.Items {
				out = append(out, l.Customer.Name+"/"+l.Label)
			}
			if page.NextCursor == nil {
				return out
			}
			cursor = *page.NextCursor
		}
		t.Fatal("too many pages")
		return nil
	}

	t.Run("OrderAndCursor", func(t *testing.T) {
		require.Equal(t, []string{"Alpha Inc/East", "Alpha Inc/West", "Mike GmbH/Aachen", "Mike GmbH/Berlin", "Zulu Ltd/Depot"}, labels(t, ""))
	})
	t.Run("Filters", func(t *testing.T) {
		require.Equal(t, []string{"Alpha Inc/East", "Alpha Inc/West"}, labels(t, "&city=BOSTON"))
		require.Equal(t, []string{"Mike GmbH/Aachen", "Mike GmbH/Berlin"}, labels(t, "&country=de"))
		require.Equal(t, []string{"Zulu Ltd/Depot"}, labels(t, "&customer_id="+zulu))
		require.Equal(t, []string{"Alpha Inc/East"}, labels(t, "&sales_rep_id="+rep.ID))
		require.Empty(t, labels(t, "&country=US&city=Lyon"))
	})
	t.Run("Items", func(t *testing.T) {
		var page locationList
		b.app.Get(t, "/v1/locations?customer_id="+zulu, b.tn.AdminToken).JSON(t, &page)
		require.Len(t, page.Items, 1)
		require.Equal(t, zulu, page.Items[0].Customer.ID)
		require.Equal(t, "Zulu Ltd", page.Items[0].Customer.Name)
		require.NotEmpty(t, page.Items[0].Customer.Code)
	})
	t.Run("CustomerRoute", func(t *testing.T) {
		var got []string
		for _, l := range customerLocations(t, b, b.tn.AdminToken, mike) {
			got = append(got, l.Label)
		}
		require.Equal(t, []string{"Aachen", "Berlin"}, got)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+uuid.NewString()+"/locations", b.tn.AdminToken).Status)
	})
	t.Run("BadParameters", func(t *testing.T) {
		for param, field := range map[string]string{
			"country=XX": "country", "country=usa": "country", "customer_id=nope": "customer_id",
			"sales_rep_id=1": "sales_rep_id", "limit=0": "limit", "cursor=%21": "cursor", "zip=1": "zip",
		} {
			resp := b.app.Get(t, "/v1/locations?"+param, b.tn.AdminToken)
			require.Equal(t, http.StatusBadRequest, resp.Status, param)
			var p problem
			resp.JSON(t, &p)
			require.Contains(t, p.fields(), field, param)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := b.app.Signup(t)
	c := customer(t, b, "Tenant A Co", nil)
	l := createLocation(t, b, b.tn.AdminToken, c, addr("HQ", "Boston", "US", "billing"))
	lp, cp := "/v1/locations/"+l.ID, "/v1/customers/"+c+"/locations"

	for _, resp := range []*apptest.Response{
		b.app.Get(t, lp, other.AdminToken),
		b.app.Patch(t, lp, other.AdminToken, `"1"`, map[string]any{"label": "Taken"}),
		b.app.Delete(t, lp, other.AdminToken),
		b.app.Get(t, cp, other.AdminToken),
		b.app.Post(t, cp, other.AdminToken, addr("Planted", "Boston", "US", "billing")),
	} {
		require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
		var p problem
		resp.JSON(t, &p)
		require.Equal(t, "not_found", p.Code)
	}
	for _, path := range []string{"/v1/locations", "/v1/locations?customer_id=" + c} {
		var page locationList
		b.app.Get(t, path, other.AdminToken).JSON(t, &page)
		require.Empty(t, page.Items, path)
	}
	got, etag := getLocation(t, b, b.tn.AdminToken, l.ID)
	require.Equal(t, "HQ", got.Label)
	require.Equal(t, `"1"`, etag)
	require.Len(t, customerLocations(t, b, b.tn.AdminToken, c), 1)
}

// TestLocationRepVisibility: being the sales rep of one of a customer's
// locations lets an 'assigned' user see and work the customer, and only
// while it lasts.
func TestLocationRepVisibility(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	owner := b.app.CreateUser(t, b.tn, "sales_rep", nil)

	sees := func(t *testing.T, customerID, locationID string) bool {
		t.Helper()
		status := b.app.Get(t, "/v1/customers/"+customerID, rep.Token).Status
		require.Contains(t, []int{http.StatusOK, http.StatusNotFound}, status)
		visible := status == http.StatusOK
		var list struct{ Items []struct{ ID string } }
		b.app.Get(t, "/v1/customers?limit=200", rep.Token).JSON(t, &list)
		listed := false
		for _, it := range list.Items {
			listed = listed || it.ID == customerID
		}
		require.Equal(t, visible, listed, "the customer list agrees with GET")
		locStatus, custLocStatus := http.StatusNotFound, http.StatusNotFound
		if visible {
			locStatus, custLocStatus = http.StatusOK, http.StatusOK
		}
		if locationID != "" {
			require.Equal(t, locStatus, b.app.Get(t, "/v1/locations/"+locationID, rep.Token).Status)
		}
		require.Equal(t, custLocStatus, b.app.Get(t, "/v1/customers/"+customerID+"/locations", rep.Token).Status)
		var page locationList
		b.app.Get(t, "/v1/locations?customer_id="+customerID, rep.Token).JSON(t, &page)
		require.Equal(t, visible, len(page.Items) > 0, "the location list agrees with GET")
		return visible
	}
	setRep := func(t *testing.T, locationID string, repID any) {
		t.Helper()
		_, etag := getLocation(t, b, b.tn.AdminToken, locationID)
		resp := b.app.Patch(t, "/v1/locations/"+locationID, b.tn.AdminToken, etag, map[string]any{"sales_rep_id": repID})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	}

	t.Run("GrantedAndRevoked", func(t *testing.T) {
		c := customer(t, b, "Owner's Co", map[string]any{"sales_rep_id": owner.ID})
		l := createLocation(t, b, b.tn.AdminToken, c, addr("Branch", "Boston", "US", "shipping"))
		require.False(t, sees(t, c, l.ID))
		require.Equal(t, http.StatusNotFound,
			b.app.Patch(t, "/v1/locations/"+l.ID, rep.Token, `"1"`, map[string]any{"label": "Mine"}).Status)
		require.Equal(t, http.StatusNotFound,
			b.app.Post(t, "/v1/customers/"+c+"/locations", rep.Token, addr("Planted", "Boston", "US", "contact")).Status)

		setRep(t, l.ID, rep.ID)
		require.True(t, sees(t, c, l.ID))
		cust := b.app.Get(t, "/v1/customers/"+c, rep.Token)
		resp := b.app.Patch(t, "/v1/customers/"+c, rep.Token, cust.Header.Get("ETag"), map[string]any{"name": "Renamed by rep"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		_, etag := getLocation(t, b, rep.Token, l.ID)
		resp = b.app.Patch(t, "/v1/locations/"+l.ID, rep.Token, etag, map[string]any{"label": "Mine"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

		setRep(t, l.ID, nil)
		require.False(t, sees(t, c, l.ID))

		setRep(t, l.ID, rep.ID)
		require.True(t, sees(t, c, l.ID))
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/locations/"+l.ID, b.tn.AdminToken).Status)
		require.False(t, sees(t, c, ""))
	})
	t.Run("RepDeletesTheirLocation", func(t *testing.T) {
		// The rep sees the customer only through the billing location;
		// deleting it must still move the primary address to the
		// shipping location, though the rep loses sight of the customer.
		c := customer(t, b, "Handover Co", map[string]any{"sales_rep_id": owner.ID})
		bill := addr("Billing", "Denver", "US", "billing")
		bill["sales_rep_id"] = rep.ID
		l := createLocation(t, b, b.tn.AdminToken, c, bill)
		createLocation(t, b, b.tn.AdminToken, c, addr("Dock", "Tacoma", "US", "shipping"))
		requireCity(t, b, c, "Denver", "US")
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/locations/"+l.ID, rep.Token).Status)
		requireCity(t, b, c, "Tacoma", "US")
		require.False(t, sees(t, c, ""))
	})
	t.Run("AssignedUserHandsLocationOver", func(t *testing.T) {
		// A user who sees only their customers but may assign reps gives
		// away the location through which they see the customer: the
		// address sync must run before they lose sight of it.
		role := b.app.Post(t, "/v1/roles", b.tn.AdminToken, map[string]any{"name": "lead",
			"permissions": []string{"customers:read", "customers:write", "customers:assign"}})
		require.Equal(t, http.StatusCreated, role.Status, "%s", role.Body)
		lead := b.app.CreateUser(t, b.tn, "lead", map[string]any{"visibility": "assigned"})
		c := customer(t, b, "Moving Co", map[string]any{"sales_rep_id": owner.ID})
		body := addr("Billing", "Denver", "US", "billing")
		body["sales_rep_id"] = lead.ID
		l := createLocation(t, b, b.tn.AdminToken, c, body)
		resp := b.app.Patch(t, "/v1/locations/"+l.ID, lead.Token, `"1"`, map[string]any{"city": "Aurora", "sales_rep_id": owner.ID})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var got location
		resp.JSON(t, &got)
		require.Equal(t, owner.ID, *got.SalesRepID)
		requireCity(t, b, c, "Aurora", "US")
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+c, lead.Token).Status)
	})
}

// TestLocationRepAssignmentRule: a location's rep override, set when
// creating or changing it, follows the customers' rule: it needs a user
// who sees every customer or holds customers:assign. A rep cannot share a
// customer with another rep, nor take one over, through a location.
func TestLocationRepAssignmentRule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	other := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	manager := b.app.CreateUser(t, b.tn, "manager", nil)
	role := b.app.Post(t, "/v1/roles", b.tn.AdminToken, map[string]any{"name": "clerk", "permissions": []string{"customers:read", "customers:write"}})
	require.Equal(t, http.StatusCreated, role.Status, "%s", role.Body)
	clerk := b.app.CreateUser(t, b.tn, "clerk", map[string]any{"visibility": "all"})
	c := customer(t, b, "Rep's Co", map[string]any{"sales_rep_id": rep.ID})
	refused := func(t *testing.T, resp *apptest.Response) {
		t.Helper()
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		var p problem
		resp.JSON(t, &p)
		require.Equal(t, map[string]string{"sales_rep_id": "not_allowed"}, p.fields())
	}

	t.Run("RepCreates", func(t *testing.T) {
		for _, id := range []string{other.ID, rep.ID} {
			body := addr("Shared", "Boston", "US", "shipping")
			body["sales_rep_id"] = id
			refused(t, b.app.Post(t, "/v1/customers/"+c+"/locations", rep.Token, body))
		}
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+c, other.Token).Status)
		// Without an override the rep adds locations as before.
		l := createLocation(t, b, rep.Token, c, addr("Plain", "Boston", "US", "shipping"))
		require.Nil(t, l.SalesRepID)
	})
	t.Run("RepChanges", func(t *testing.T) {
		l := createLocation(t, b, rep.Token, c, addr("Dock", "Salem", "US", "shipping"))
		for _, id := range []any{other.ID, rep.ID} {
			_, etag := getLocation(t, b, rep.Token, l.ID)
			refused(t, b.app.Patch(t, "/v1/locations/"+l.ID, rep.Token, etag, map[string]any{"sales_rep_id": id}))
		}
		withOverride := addr("Depot", "Lynn", "US", "shipping")
		withOverride["sales_rep_id"] = rep.ID
		l = createLocation(t, b, b.tn.AdminToken, c, withOverride)
		_, etag := getLocation(t, b, rep.Token, l.ID)
		refused(t, b.app.Patch(t, "/v1/locations/"+l.ID, rep.Token, etag, map[string]any{"sales_rep_id": nil}))
		// Setting what is already there is no change.
		resp := b.app.Patch(t, "/v1/locations/"+l.ID, rep.Token, etag, map[string]any{"sales_rep_id": rep.ID, "label": "Depot 2"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	})
	t.Run("RepDeletesAnotherRepsOverride", func(t *testing.T) {
		// The customer's own rep sees every location of it; deleting the
		// one that gives another rep the customer would cut that rep out.
		body := addr("Shared dock", "Boston", "US", "shipping")
		body["sales_rep_id"] = other.ID
		l := createLocation(t, b, b.tn.AdminToken, c, body)
		resp := b.app.Delete(t, "/v1/locations/"+l.ID, rep.Token)
		require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
		require.Contains(t, string(resp.Body), "customers:assign")
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customers/"+c, other.Token).Status, "the other rep keeps the customer")
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/locations/"+l.ID, manager.Token).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+c, other.Token).Status)
	})
	t.Run("ManagerAndClerkAssign", func(t *testing.T) {
		for label, token := range map[string]string{"By manager": manager.Token, "By clerk": clerk.Token} {
			body := addr(label, "Boston", "US", "shipping")
			body["sales_rep_id"] = other.ID
			l := createLocation(t, b, token, c, body)
			require.Equal(t, other.ID, *l.SalesRepID)
			_, etag := getLocation(t, b, token, l.ID)
			resp := b.app.Patch(t, "/v1/locations/"+l.ID, token, etag, map[string]any{"sales_rep_id": nil})
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		}
	})
}

// TestConcurrentCreates: locations created at once for one customer wait
// for each other on the customer's row, so exactly one becomes the default
// billing location and none fails on the partial unique index.
func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := customer(t, b, "Busy Co", nil)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = b.app.Post(t, "/v1/customers/"+c+"/locations", b.tn.AdminToken,
				addr("L"+strings.Repeat("x", i), "Reno", "US", "billing", "shipping")).Status
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		require.Equal(t, http.StatusCreated, s)
	}
	billing, shipping := 0, 0
	for _, l := range customerLocations(t, b, b.tn.AdminToken, c) {
		if l.DefaultBilling {
			billing++
		}
		if l.DefaultShipping {
			shipping++
		}
	}
	require.Equal(t, 1, billing)
	require.Equal(t, 1, shipping)
}
