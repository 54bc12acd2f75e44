package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
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
	b.do("the list shows", until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 3`))
	b.labelled("customer list")

	b.do("create a customer with a group",
		clickText("Add customer"),
		typeInto(`input[name=name]`, "Lumen Trading"),
		typeInto(`input[name=code]`, "LUM-48213"),
		typeInto(`input[name=email]`, "buyer@lumen.example"),
		choose(`select[name="group.region"]`, "NORTH-07"),
		choose(`select[name=sales_rep_id]`, tn.AdminID),
		click(`form button[type=submit]`),
		textIn(`#customer-title`, "Lumen Trading"),
		textIn(`ul.chips`, "NORTH-07"),
		textIn(`dd[data-field=sales_rep_id]`, "Admin"))
	b.shot("customer")
	b.do("the edit form opens", clickText("Edit"), chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)))
	b.labelled("customer edit")
	b.do("cancel the edit", clickText("Cancel"), chromedp.WaitNotPresent(chromedp.CSS(`input[name=name]`)))

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

	// Sign-out revokes the token on the server, and the token was never a
	// cookie.
	token := b.eval(`sessionStorage.getItem("customerhub.token") ?? ""`)
	require.NotEmpty(t, token)
	require.Equal(t, http.StatusOK, app.Get(t, "/v1/me", token).Status)
	require.Empty(t, b.eval(`document.cookie`))
	b.do("sign out", clickText("Sign out"), chromedp.WaitVisible(chromedp.CSS(`input[name=tenant]`)))
	b.labelled("sign-in")
	require.Empty(t, b.eval(`sessionStorage.getItem("customerhub.token") ?? ""`))
	require.Equal(t, http.StatusUnauthorized, app.Get(t, "/v1/me", token).Status, "the signed-out token is revoked")
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

// TestImportShowsProgressAndRowErrors: an import of a small xlsx, uploaded
// through the console, shows its progress to the end, its counts and its
// row errors with row and column; the API holds the valid rows.
func TestImportShowsProgressAndRowErrors(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)

	// 300 good rows, then two bad ones: an e-mail that is not one, and a
	// code the file already used.
	f := excelize.NewFile()
	rows := [][]any{{"Code", "Customer Name", "E-mail"}}
	for i := range 300 {
		rows = append(rows, []any{fmt.Sprintf("IMP-%04d", i), fmt.Sprintf("Imported %d", i), fmt.Sprintf("i%d@imp.example", i)})
	}
	rows = append(rows, []any{"IMP-BAD1", "Bad Mail", "not-an-email"}, []any{"IMP-0007", "Dup Code", "dup@imp.example"})
	for i, r := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		require.NoError(t, err)
		require.NoError(t, f.SetSheetRow("Sheet1", cell, &r))
	}
	path := filepath.Join(t.TempDir(), "customers.xlsx")
	require.NoError(t, f.SaveAs(path))

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("open the import screen", clickText("Import"), chromedp.WaitVisible(chromedp.CSS(`#import-file`)))
	b.labelled("import")
	b.do("upload the file",
		chromedp.SetUploadFiles(chromedp.CSS(`#import-file`), []string{path}),
		chromedp.WaitEnabled(chromedp.CSS(`form[aria-label="Upload and import"] button[type=submit]`)),
		click(`form[aria-label="Upload and import"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=import-progress]`)))
	b.do("the progress reaches the end and the import finishes",
		until(`document.querySelector("[data-testid=import-state]")?.dataset.state === "succeeded"`),
		until(`(() => { const p = document.querySelector("[data-testid=import-progress]"); return p.dataset.total === "302" && p.dataset.processed === "302" })()`),
		until(`document.querySelector("#import-progress-bar").value === 302`))
	counts := b.eval(`JSON.stringify(Object.fromEntries([...document.querySelectorAll("[data-testid=import-counts] dd")].map((d) => [d.dataset.count, d.textContent])))`)
	require.JSONEq(t, `{"total":"302","created":"300","updated":"0","unchanged":"0","failed":"2"}`, counts)

	b.do("the row errors name row and column",
		textIn(`[data-testid=row-errors]`, "not-an-email"),
		textIn(`[data-testid=row-errors]`, "IMP-0007"))
	var errs []map[string]string
	require.NoError(t, json.Unmarshal([]byte(b.eval(`JSON.stringify([...document.querySelectorAll("[data-testid=row-errors] tbody tr")].map((tr) => ({row: tr.cells[0].textContent, column: tr.cells[1].textContent})))`)), &errs))
	require.Contains(t, errs, map[string]string{"row": "302", "column": "email"})
	require.Contains(t, errs, map[string]string{"row": "303", "column": "code"})

	var list struct {
		Total int `json:"total"`
	}
	app.Get(t, "/v1/customers?q=Imported&count=exact&limit=1", tn.AdminToken).JSON(t, &list)
	require.Equal(t, 300, list.Total, "the API holds the 300 valid rows")

	if os.Getenv("CONSOLE_SCREENSHOTS") != "" {
		// The README's picture of an import under way: a file big enough
		// to be caught half done.
		var csv strings.Builder
		csv.WriteString("code,name,email\n")
		for i := range 40000 {
			fmt.Fprintf(&csv, "BIG-%05d,Big %d,big%d@imp.example\n", i, i, i)
		}
		big := filepath.Join(t.TempDir(), "customer-book.csv")
		require.NoError(t, os.WriteFile(big, []byte(csv.String()), 0o644))
		b.do("upload a big file",
			clickText("← Import customers"),
			chromedp.SetUploadFiles(chromedp.CSS(`#import-file`), []string{big}),
			chromedp.WaitEnabled(chromedp.CSS(`form[aria-label="Upload and import"] button[type=submit]`)),
			click(`form[aria-label="Upload and import"] button[type=submit]`),
			until(`(() => { const p = document.querySelector("[data-testid=import-progress]"); return p && +p.dataset.processed > 4000 && +p.dataset.processed < 30000 })()`))
		b.shot("import")
	}
}

// TestNarrowScreen: at 390 pixels (a phone) the console fits the width:
// the navigation folds behind a menu button, and the list scrolls inside
// its own box rather than widening the page.
func TestNarrowScreen(t *testing.T) {
	app, b := start(t, 390)
	tn := app.Signup(t)
	for i := range 3 {
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Narrow %d", i), "email": fmt.Sprintf("n%d@narrow.example", i)})
	}
	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("the list shows", until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 3`))
	require.Equal(t, "true", b.eval(`String(document.documentElement.scrollWidth <= 390)`), "the page is no wider than the screen")
	require.Equal(t, "false", b.eval(`String(document.querySelector("#nav").checkVisibility())`), "navigation folded")
	b.do("the menu opens the navigation", clickText("Menu"), until(`document.querySelector("#nav").checkVisibility()`))
	b.shot("narrow")
}

// TestListPagingTotalsAndFilters: the list pages by cursor forwards and
// back, shows the total when asked, and filters narrow it, each in step
// with the API.
func TestListPagingTotalsAndFilters(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	for i := range 60 {
		typ := "company"
		if i%3 == 0 {
			typ = "individual"
		}
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Pager %02d", i), "type": typ})
	}
	b.signIn(tn.Slug, tn.AdminEmail)
	firstRow := `document.querySelector("[data-testid=customer-table] tbody tr td")?.textContent`
	b.do("the first page holds 50", until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 50`))
	require.Equal(t, "Pager 00", b.eval(firstRow))

	b.do("the second page holds the other 10",
		clickText("Next page"),
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 10`))
	require.Equal(t, "Pager 50", b.eval(firstRow))
	require.Equal(t, "true", b.eval(`String(document.querySelector(".pager button:last-child").disabled)`), "no page after the last")

	b.do("and back", clickText("Previous page"), until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 50`))
	require.Equal(t, "Pager 00", b.eval(firstRow))

	b.do("the total when asked",
		click(`.listbar input[type=checkbox]`),
		textIn(`[data-testid=total]`, "60 in all"))

	b.do("filter individuals",
		click(`details.filters summary`),
		choose(`.filterbar select`, "individual"),
		textIn(`[data-testid=total]`, "20 in all"),
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 20`))
	require.Contains(t, b.eval(`location.search`), "type=individual", "the filter is in the address")

	require.Equal(t, "ascending", b.eval(`document.querySelector("th[data-column=name]").getAttribute("aria-sort")`))
	b.do("sorted by name, descending, from the header",
		click(`th[data-column=name] button`),
		until(`document.querySelector("th[data-column=name]").getAttribute("aria-sort") === "descending"`),
		until(firstRow+` === "Pager 57"`))
}

// TestManagerAssignsRepsInBulk: a manager (who may assign reps but not
// manage users) saves a view of the individual customers, opens it, and
// from it sets a sales rep chosen by name (GET /v1/sales-reps) on exactly
// the view's customers.
func TestManagerAssignsRepsInBulk(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	manager := app.CreateUser(t, tn, "manager", nil)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	for i := range 3 {
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Company %d", i), "type": "company"})
	}
	for i := range 2 {
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Person %d", i), "type": "individual"})
	}
	b.signIn(tn.Slug, manager.Email)
	b.do("save a view of the individuals",
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 5`),
		click(`details.filters summary`),
		choose(`.filterbar select`, "individual"),
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 2`),
		typeInto(`#view-name`, "Individuals"),
		click(`form.inline button[type=submit]`),
		until(`location.search === "?view=Individuals"`),
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 2`))
	b.do("set their rep in bulk",
		click(`[data-testid=bulk-update]`),
		click(`input[name=set-sales_rep_id]`),
		choose(`select[name=value-sales_rep_id]`, rep.ID),
		click(`[data-testid=bulk-count]`),
		textIn(`main`, "2 customers will be updated"),
		click(`[data-testid=bulk-confirm]`),
		textIn(`main`, "Succeeded"))
	var list struct {
		Items []map[string]any `json:"items"`
	}
	app.Get(t, "/v1/customers", rep.Token).JSON(t, &list)
	require.Len(t, list.Items, 2, "the rep now has the two individuals")
	for _, c := range list.Items {
		require.Equal(t, "individual", c["type"])
	}
}

// TestExportOfTheList: the list's export button downloads the list as
// filtered, with the columns shown that a file carries (code first).
func TestExportOfTheList(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	for i := range 4 {
		typ := "company"
		if i%2 == 0 {
			typ = "individual"
		}
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Export %d", i), "type": typ, "email": fmt.Sprintf("e%d@export.example", i)})
	}
	dir := t.TempDir()
	_, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
	require.NoError(t, err)

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("filter individuals and export them as CSV",
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 4`),
		click(`details.filters summary`),
		choose(`.filterbar select`, "individual"),
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 2`),
		clickText("CSV"))
	var file string
	require.Eventually(t, func() bool {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
		if len(matches) == 1 {
			file = matches[0]
			return true
		}
		return false
	}, stepTimeout, 100*time.Millisecond, "the CSV is downloaded")
	body, err := os.ReadFile(file)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(body), "\ufeff")), "\n")
	require.Len(t, lines, 3, "a header and the two individuals: %s", body)
	require.Equal(t, "code,name,phone,email,billing_city,billing_country", strings.TrimSpace(lines[0]), "the columns shown, as the file's headers")
	require.Contains(t, string(body), "Export 0")
	require.Contains(t, string(body), "Export 2")
	require.NotContains(t, string(body), "Export 1")
}
