package console_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestAdminCustomerFlow: an admin signs in, creates a customer with a
// group and a location, finds it by part of its code, switches columns and
// sees the choice again after reloading.
func TestAdminCustomerFlow(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	resp := app.Post(t, "/v1/customer-groups", tn.AdminToken, map[string]any{"category": "region", "code": "NORTH-07", "name": "North"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	for i := range 3 {
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Other %d", i), "code": fmt.Sprintf("OTH-%d", i)})
	}

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("the admin's name and role are shown", textIn(`[data-testid=signed-in-user]`, "Admin (admin)"))

	b.do("create a customer with a group",
		clickText("Add customer"),
		typeInto(`input[name=name]`, "Lumen Trading"),
		typeInto(`input[name=code]`, "LUM-48213"),
		typeInto(`input[name=email]`, "buyer@lumen.example"),
		choose(`select[name="group.region"]`, "NORTH-07"),
		click(`form button[type=submit]`),
		textIn(`#customer-title`, "Lumen Trading"),
		textIn(`ul.chips`, "NORTH-07"))
	b.shot("customer")

	b.do("add a location",
		clickText("Addresses"),
		clickText("Add address"),
		typeInto(`input[name=label]`, "Warehouse"),
		typeInto(`input[name=line1]`, "12 Harbour Road"),
		typeInto(`input[name=city]`, "Bremen"),
		typeInto(`input[name=country]`, "DE"),
		click(`form[aria-label="Add address"] button[type=submit]`),
		textIn(`[data-testid=addresses]`, "Bremen"))

	// What the browser did is what the API holds.
	var list struct {
		Items []map[string]any `json:"items"`
	}
	app.Get(t, "/v1/customers?q=LUM-48213", tn.AdminToken).JSON(t, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, map[string]any{"region": "NORTH-07"}, list.Items[0]["groups"])
	locs := app.Get(t, "/v1/customers/"+list.Items[0]["id"].(string)+"/locations", tn.AdminToken).Map(t)
	require.Len(t, locs["items"], 1)

	b.do("find it by part of its code",
		clickText("Customers"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=customer-table]`)),
		typeInto(`#customer-search`, "48213"),
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 1`),
		textIn(`[data-testid=customer-table] tbody`, "Lumen Trading"))

	b.do("switch columns: phone off, total order value on",
		click(`details.columns summary`),
		click(`input[name=column-phone]`),
		until(`!document.querySelector("[data-testid=customer-table] th[data-column=phone]")`),
		click(`input[name=column-total_order_value]`),
		until(`!!document.querySelector("[data-testid=customer-table] th[data-column=total_order_value]")`))
	want := b.headers()
	require.NotContains(t, want, "phone")
	require.Contains(t, want, "total_order_value")

	b.do("reload: the columns are still the chosen ones",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=customer-table]`)),
		until(`!!document.querySelector("[data-testid=customer-table] th[data-column=total_order_value]")`))
	require.Equal(t, want, b.headers())
	b.do("clear the search", typeInto(`#customer-search`, ""), until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 4`))
	b.shot("customers")
}

// TestSalesRepSeesOwnCustomers: a sales rep sees only their customers and
// no bulk-update button; the admin sees both and the button.
func TestSalesRepSeesOwnCustomers(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	rep := app.CreateUser(t, tn, "sales_rep", map[string]any{"visibility": "assigned"})
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Rep Owned One", "sales_rep_id": rep.ID})
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Rep Owned Two", "sales_rep_id": rep.ID})
	other := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Someone Else's"})

	b.signIn(tn.Slug, rep.Email)
	b.do("the rep's list holds their two customers only",
		textIn(`[data-testid=signed-in-user]`, "(sales_rep)"),
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 2`))
	body := b.eval(`document.querySelector("[data-testid=customer-table] tbody").textContent`)
	require.Contains(t, body, "Rep Owned One")
	require.Contains(t, body, "Rep Owned Two")
	require.NotContains(t, body, "Someone Else")
	require.Equal(t, "false", b.eval(`String(!!document.querySelector("[data-testid=bulk-update]"))`), "no bulk-update button for a rep")

	b.do("another rep's customer, opened by address, is shown as not found",
		chromedp.Navigate(b.base+"/app/customers/"+other["id"].(string)),
		until(`document.querySelector(".problem")?.dataset.status === "404"`))

	b.do("sign out", clickText("Sign out"), chromedp.WaitVisible(chromedp.CSS(`input[name=tenant]`)))
	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("the admin sees all three and the bulk-update button",
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 3`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=bulk-update]`)))
}

// TestConflictingEditIsShown: an edit made from a page read before
// someone else's change is refused with the conflict shown, and the other
// change stands.
func TestConflictingEditIsShown(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	c := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Conflict Co", "email": "a@conflict.example"})
	id := c["id"].(string)

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("open the customer and start editing",
		chromedp.Navigate(b.base+"/app/customers/"+id),
		textIn(`#customer-title`, "Conflict Co"),
		clickText("Edit"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)))

	// Meanwhile someone else renames it.
	got := app.Get(t, "/v1/customers/"+id, tn.AdminToken)
	resp := app.Patch(t, "/v1/customers/"+id, tn.AdminToken, got.Header.Get("ETag"), map[string]any{"name": "Renamed Elsewhere"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	b.do("saving shows the conflict",
		typeInto(`input[name=name]`, "My Late Edit"),
		click(`form button[type=submit]`),
		until(`document.querySelector(".problem")?.dataset.status === "412"`),
		textIn(`.problem`, "Someone else changed this"))
	require.Equal(t, "Renamed Elsewhere", app.Get(t, "/v1/customers/"+id, tn.AdminToken).Map(t)["name"], "the other change stands")

	b.do("load the latest version", clickText("Load the latest version"), textIn(`#customer-title`, "Renamed Elsewhere"))
	require.False(t, slices.Contains([]string{"My Late Edit"}, app.Get(t, "/v1/customers/"+id, tn.AdminToken).Map(t)["name"].(string)))
}
