package console_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// attr reads an attribute of the first element sel matches.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`document.querySelector(%s)?.getAttribute(%s) ?? ""`, js(sel), js(name)))
}

func jsonInto(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// setInstant fills a datetime-local input with the instant at, in the
// browser's own time zone, as a user picking it would (input event).
func setInstant(sel string, at time.Time) chromedp.Action[chromedp.Void] {
	return until(fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el) return false;
		const d = new Date(%d); const p = (n) => String(n).padStart(2, "0");
		el.value = d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
		el.dispatchEvent(new Event("input", { bubbles: true })); return true })()`, js(sel), at.UnixMilli()))
}

// TestGroupsScreen: an admin creates a group with its defaults, finds it
// by a middle part of its code (and not with "starts with"), edits an
// older group, and the list is ordered newest modified first as the API
// orders it.
func TestGroupsScreen(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	older := map[string]string{}
	for _, code := range []string{"OLD-A", "OLD-B"} {
		resp := app.Post(t, "/v1/customer-groups", tn.AdminToken, map[string]any{"category": "region", "code": code, "name": "Old " + code})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		older[code] = resp.Map(t)["id"].(string)
	}
	terms := app.Post(t, "/v1/payment-terms", tn.AdminToken, map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	require.Equal(t, http.StatusCreated, terms.Status, "%s", terms.Body)
	termsID := terms.Map(t)["id"].(string)

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("create a group with its defaults",
		clickText("Customer groups"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=group-table]`)),
		click(`[data-testid=new-group]`),
		typeInto(`input[name=category]`, "region"),
		typeInto(`input[name=code]`, "VIP-EXPO-2291"),
		typeInto(`input[name=name]`, "Exhibition customers"),
		choose(`select[name=payment_terms_id]`, termsID),
		typeInto(`input[name=credit_limit]`, "5000"),
		typeInto(`input[name=credit_days]`, "45"),
		typeInto(`input[name=discount_rate]`, "2.5"),
		chromedp.SendKeys(chromedp.CSS(`input[name=discount_rate]`), "\r"),
		textIn(`#group-title`, "VIP-EXPO-2291"),
		textIn(`[data-field=payment_terms_id]`, "Net 30"))

	var list struct {
		Items []map[string]any `json:"items"`
	}
	app.Get(t, "/v1/customer-groups?code=VIP-EXPO-2291&match=exact", tn.AdminToken).JSON(t, &list)
	require.Len(t, list.Items, 1)
	g := list.Items[0]
	require.Equal(t, "Exhibition customers", g["name"])
	require.Equal(t, termsID, g["payment_terms_id"])
	require.EqualValues(t, 45, g["credit_days"])
	require.Contains(t, g["credit_limit"], "5000")
	require.Contains(t, g["discount_rate"], "2.5")

	b.do("find it by a middle part of its code",
		clickText("← Customer groups"),
		typeInto(`input[name=search-code]`, "expo"),
		until(`document.querySelectorAll("[data-testid=group-table] tbody tr").length === 1`),
		textIn(`[data-testid=group-table] tbody`, "VIP-EXPO-2291"))
	b.do(`"starts with" does not find it by the middle part`,
		choose(`select[name=match]`, "prefix"),
		textIn(`.empty`, "No customer groups match"))
	b.do(`"starts with" finds it by its start`,
		typeInto(`input[name=search-code]`, "vip-"),
		until(`document.querySelectorAll("[data-testid=group-table] tbody tr").length === 1`))

	b.do("edit an older group",
		choose(`select[name=match]`, "exact"),
		typeInto(`input[name=search-code]`, "OLD-A"),
		until(`document.querySelectorAll("[data-testid=group-table] tbody tr").length === 1`),
		clickText("OLD-A"),
		click(`[data-testid=edit-group]`),
		typeInto(`input[name=name]`, "Old A renamed"),
		typeInto(`input[name=credit_days]`, "60"),
		click(`form button[type=submit]`),
		textIn(`[data-field=name]`, "Old A renamed"),
		textIn(`[data-field=credit_days]`, "60"))
	edited := app.Get(t, "/v1/customer-groups/"+older["OLD-A"], tn.AdminToken).Map(t)
	require.Equal(t, "Old A renamed", edited["name"])
	require.EqualValues(t, 60, edited["credit_days"])

	b.do("the list is newest modified first",
		chromedp.Navigate(b.base+"/app/groups"),
		until(`document.querySelectorAll("[data-testid=group-table] tbody tr").length === 3`))
	var order []string
	require.NoError(t, jsonInto(b.eval(`JSON.stringify([...document.querySelectorAll("[data-testid=group-table] tbody tr")].map((tr) => tr.dataset.code))`), &order))
	require.Equal(t, []string{"OLD-A", "VIP-EXPO-2291", "OLD-B"}, order)
	app.Get(t, "/v1/customer-groups", tn.AdminToken).JSON(t, &list)
	api := make([]string, len(list.Items))
	for i, it := range list.Items {
		api[i] = it["code"].(string)
	}
	require.Equal(t, api, order, "the screen shows the API's order")
	b.shot("groups")
}

// TestViewerSeesNoGroupButtons: a viewer reads the groups but has neither
// "New" nor "Edit"; a create sent anyway from the form's address is
// refused and the refusal is shown.
func TestViewerSeesNoGroupButtons(t *testing.T) {
	app, b := start(t, 390)
	tn := app.Signup(t)
	resp := app.Post(t, "/v1/customer-groups", tn.AdminToken, map[string]any{"category": "region", "code": "SEEN-1", "name": "Seen"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	id := resp.Map(t)["id"].(string)
	viewer := app.CreateUser(t, tn, "viewer", nil)

	b.signIn(tn.Slug, viewer.Email)
	b.do("the viewer sees the list without New",
		chromedp.Navigate(b.base+"/app/groups"),
		textIn(`[data-testid=group-table] tbody`, "SEEN-1"))
	require.Equal(t, "false", b.eval(`String(!!document.querySelector("[data-testid=new-group]"))`))
	b.do("and the group without Edit",
		clickText("SEEN-1"),
		textIn(`#group-title`, "SEEN-1"))
	require.Equal(t, "false", b.eval(`String(!!document.querySelector("[data-testid=edit-group]"))`))
	b.shot("group-viewer-390")

	b.do("a create from the form's address is refused and shown",
		chromedp.Navigate(b.base+"/app/groups/new"),
		typeInto(`input[name=category]`, "region"),
		typeInto(`input[name=code]`, "NOPE-1"),
		typeInto(`input[name=name]`, "Nope"),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "\r"),
		until(`document.querySelector(".problem")?.dataset.status === "403"`))
	var list struct {
		Items []map[string]any `json:"items"`
	}
	app.Get(t, "/v1/customer-groups", tn.AdminToken).JSON(t, &list)
	require.Len(t, list.Items, 1, "nothing was created")
	require.Equal(t, id, list.Items[0]["id"])
}

// TestBulkUpdateScreen: from the customer list's filters, the dry run's
// count is the API's, the confirmed update runs to the end, and the API
// shows the change on exactly the filtered customers.
func TestBulkUpdateScreen(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	var targets []string
	for _, n := range []string{"Bulkhead Alpha", "Bulkhead Beta", "Bulkhead Gamma"} {
		targets = append(targets, app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": n})["id"].(string))
	}
	other := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Unrelated Ltd"})["id"].(string)

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("open bulk update from the filtered list",
		chromedp.Navigate(b.base+"/app/customers?q=Bulkhead"),
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 3`),
		click(`[data-testid=bulk-update]`),
		textIn(`[data-testid=bulk-filter]`, "Bulkhead"))
	b.do("count what setting the billing status would change",
		click(`input[name=set-billing_status]`),
		choose(`select[name=value-billing_status]`, "on_hold"),
		click(`[data-testid=bulk-count]`),
		textIn(`[data-testid=bulk-preview]`, "customers will be updated"))
	shown := b.attr(`[data-testid=bulk-preview]`, "data-count")

	dry := app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
		"dry_run": true, "selection": map[string]any{"filter": map[string]string{"q": "Bulkhead"}}, "set": map[string]any{"billing_status": "on_hold"}})
	require.Equal(t, http.StatusOK, dry.Status, "%s", dry.Body)
	require.EqualValues(t, 3, dry.Map(t)["would_change"])
	require.Equal(t, "3", shown, "the screen's count is the API's")
	require.Contains(t, b.eval(`document.querySelector("[data-testid=bulk-preview]").textContent`), "3 customers will be updated")

	b.do("confirm: the job runs to the end",
		click(`[data-testid=bulk-confirm]`),
		until(`document.querySelector("[data-testid=job]")?.dataset.state === "succeeded"`),
		textIn(`[data-testid=job-result] [data-field=changed]`, "3"))
	b.shot("bulk-update")
	for _, id := range targets {
		require.Equal(t, "on_hold", app.Get(t, "/v1/customers/"+id, tn.AdminToken).Map(t)["billing_status"])
	}
	require.NotEqual(t, "on_hold", app.Get(t, "/v1/customers/"+other, tn.AdminToken).Map(t)["billing_status"], "outside the filter: unchanged")
}

// TestJobsScreen: a finished job is listed with its state and progress,
// and its page shows the result.
func TestJobsScreen(t *testing.T) {
	app, b := start(t, 390)
	tn := app.Signup(t)
	for _, n := range []string{"Jobbed One", "Jobbed Two"} {
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": n})
	}
	resp := app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
		"dry_run": false, "selection": map[string]any{"filter": map[string]string{"q": "Jobbed"}}, "set": map[string]any{"billing_status": "collections"}})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	id := resp.Map(t)["job"].(map[string]any)["id"].(string)
	job := app.WaitJob(t, tn.AdminToken, id)
	require.Equal(t, "succeeded", job["state"])

	row := fmt.Sprintf(`[data-testid=job-table] tr[data-id="%s"]`, id)
	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("the jobs list shows the finished job",
		chromedp.Navigate(b.base+"/app/jobs"),
		until(fmt.Sprintf(`document.querySelector(%s)?.dataset.state === "succeeded"`, js(row))),
		textIn(row, "2 of 2"))
	b.do("its page shows state and result",
		clickText("Bulk update of customers"),
		textIn(`[data-testid=job-state]`, "Succeeded"),
		textIn(`[data-testid=job-result] [data-field=changed]`, "2"))
	b.shot("job-390")
	require.Equal(t, "false", b.eval(`String([...document.querySelectorAll("button")].some((e) => e.textContent.trim() === "Cancel"))`), "no cancel for a finished job")
}

// TestDormantScreen: the sweep's preview shows the API's count and the
// customers, the run marks them dormant, and one is reactivated.
func TestDormantScreen(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	ids := map[string]string{}
	for _, n := range []string{"Sleepy Hollow", "Quiet Corner"} {
		ids[n] = app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": n})["id"].(string)
	}
	// The cutoff: a whole second after both were created, and not in the
	// future when it is sent.
	before := time.Now().Truncate(time.Second).Add(time.Second)
	require.Eventually(t, func() bool { return time.Now().After(before) }, 5*time.Second, 20*time.Millisecond)
	later := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Fresh Start"})["id"].(string)

	dry := app.Post(t, "/v1/dormant-sweeps", tn.AdminToken, map[string]any{"dry_run": true, "before": before.UTC().Format(time.RFC3339)})
	require.Equal(t, http.StatusOK, dry.Status, "%s", dry.Body)
	require.EqualValues(t, 2, dry.Map(t)["count"])

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("preview the sweep",
		clickText("Dormant customers"),
		textIn(`.empty`, "No customer is dormant"),
		setInstant(`input[name=before]`, before),
		click(`[data-testid=dormant-preview]`),
		textIn(`[data-testid=dormant-count]`, "2 customers will be marked dormant"),
		textIn(`[data-testid=dormant-sample]`, "Sleepy Hollow"),
		textIn(`[data-testid=dormant-sample]`, "Quiet Corner"))
	require.Equal(t, "2", b.attr(`[data-testid=dormant-count]`, "data-count"))
	require.NotContains(t, b.eval(`document.querySelector("[data-testid=dormant-sample]").textContent`), "Fresh Start")
	b.shot("dormant-preview")

	b.do("run it",
		click(`[data-testid=dormant-run]`),
		until(`document.querySelector("[data-testid=job]")?.dataset.state === "succeeded"`),
		until(`document.querySelectorAll("[data-testid=dormant-table] tbody tr").length === 2`))
	for _, id := range ids {
		require.Equal(t, "dormant", app.Get(t, "/v1/customers/"+id, tn.AdminToken).Map(t)["status"])
	}
	require.Equal(t, "active", app.Get(t, "/v1/customers/"+later, tn.AdminToken).Map(t)["status"])

	b.do("reactivate one",
		click(`button[aria-label="Reactivate Quiet Corner"]`),
		textIn(fmt.Sprintf(`tr[data-id="%s"]`, ids["Quiet Corner"]), "Reactivated"))
	require.Equal(t, "active", app.Get(t, "/v1/customers/"+ids["Quiet Corner"], tn.AdminToken).Map(t)["status"])
	require.Equal(t, "dormant", app.Get(t, "/v1/customers/"+ids["Sleepy Hollow"], tn.AdminToken).Map(t)["status"])

	b.do("the customer list shows the dormant one on request",
		clickText("Show dormant customers in the customer list"),
		until(`document.querySelectorAll("[data-testid=customer-table] tbody tr").length === 1`),
		textIn(`[data-testid=customer-table] tbody`, "Sleepy Hollow"))
}

// TestSmsScreen: a template's live preview shows its encoding and
// segments as the API renders them, the template is saved, and the
// notice campaign's dry-run counts are the API's.
func TestSmsScreen(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Texted Person", "phone": "+14155550123"})
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Phoneless Person"})

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("a short template: one GSM-7 segment",
		chromedp.Navigate(b.base+"/app/sms/templates"),
		clickText("New template"),
		typeInto(`input[name=name]`, "Balance reminder"),
		typeInto(`textarea[name=body]`, "Hello {name}, your balance is {balance}."),
		textIn(`[data-testid=sms-preview]`, "Hello "),
		textIn(`[data-testid=sms-encoding]`, "GSM-7"),
		until(`document.querySelector("[data-testid=sms-segments]")?.dataset.segments === "1"`))

	long := "Dear {name}, this is a reminder that your account shows an open balance of {balance}. " +
		"Please arrange payment at your earliest convenience or contact us if you believe this is in error. Thank you!"
	b.do("a long one: two segments, as the API counts them",
		typeInto(`textarea[name=body]`, long),
		until(`document.querySelector("[data-testid=sms-segments]")?.dataset.segments === "2"`))
	b.shot("sms-template")
	pickedID := b.eval(`document.querySelector("select[name=preview-customer]").value`)
	pv := app.Post(t, "/v1/sms/templates/preview", tn.AdminToken, map[string]any{"body": long, "customer_id": pickedID, "template_id": nil})
	require.Equal(t, http.StatusOK, pv.Status, "%s", pv.Body)
	require.EqualValues(t, 2, pv.Map(t)["segments"])
	require.Contains(t, b.eval(`document.querySelector("[data-testid=sms-preview]").textContent`), pv.Map(t)["text"].(string))

	b.do("save it",
		click(`form button[type=submit]`),
		textIn(`[data-testid=template-table]`, "Balance reminder"))
	var templates struct {
		Items []map[string]any `json:"items"`
	}
	app.Get(t, "/v1/sms/templates", tn.AdminToken).JSON(t, &templates)
	require.Len(t, templates.Items, 1)
	require.Equal(t, long, templates.Items[0]["body"])
	tid := templates.Items[0]["id"].(string)

	b.do("count the notices",
		clickText("Receivable notices"),
		choose(`select[name=template_id]`, tid),
		click(`[data-testid=notice-preview]`),
		textIn(`[data-testid=notice-count]`, "notices will be sent"))
	dry := app.Post(t, "/v1/sms/receivable-notices", tn.AdminToken, map[string]any{
		"dry_run": true, "selection": map[string]any{"filter": map[string]string{}}, "template_id": tid, "overdue_only": false})
	require.Equal(t, http.StatusOK, dry.Status, "%s", dry.Body)
	var out struct {
		Counts struct {
			Eligible int64            `json:"eligible"`
			Skipped  map[string]int64 `json:"skipped"`
		} `json:"counts"`
	}
	dry.JSON(t, &out)
	require.Equal(t, strconv.FormatInt(out.Counts.Eligible, 10), b.attr(`[data-testid=notice-count]`, "data-count"))
	var skipped int64
	for reason, n := range out.Counts.Skipped {
		skipped += n
		require.Contains(t, b.eval(`document.querySelector("[data-testid=notice-skipped]")?.textContent ?? ""`), fmt.Sprintf("%d skipped", n), reason)
	}
	require.EqualValues(t, 2, out.Counts.Eligible+skipped, "every customer is counted once")
}

// TestLocationsScreen: locations across customers by customer, a column
// switched on, one location's rep override set, then a bulk override of
// the ticked locations counted and run; the API holds each change.
func TestLocationsScreen(t *testing.T) {
	app, b := start(t, 1280)
	tn := app.Signup(t)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	locs := map[string]string{}
	for _, c := range []struct{ name, city string }{{"Zeta Stores", "Bremen"}, {"Alpha Foods", "Hamburg"}, {"Mid Market", "Kiel"}} {
		cust := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": c.name})
		resp := app.Post(t, "/v1/customers/"+cust["id"].(string)+"/locations", tn.AdminToken,
			map[string]any{"label": "Main", "line1": "1 Harbour Road", "city": c.city, "country": "DE", "kinds": []string{"shipping"}})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		locs[c.name] = resp.Map(t)["id"].(string)
	}

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("the locations, by customer",
		clickText("Locations"),
		until(`document.querySelectorAll("[data-testid=location-table] tbody tr").length === 3`))
	var names []string
	require.NoError(t, jsonInto(b.eval(`JSON.stringify([...document.querySelectorAll("[data-testid=location-table] tbody td[data-column=customer]")].map((td) => td.textContent))`), &names))
	require.Equal(t, []string{"Alpha Foods", "Mid Market", "Zeta Stores"}, names)

	b.do("switch on the postal code column",
		click(`details.columns summary`),
		click(`input[name=loc-column-postal_code]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=location-table] th[data-column=postal_code]`)))

	row := func(name string) string {
		return fmt.Sprintf(`[data-testid=location-table] tr[data-id="%s"]`, locs[name])
	}
	b.do("override one location's rep",
		choose(row("Zeta Stores")+` select`, rep.ID),
		click(row("Zeta Stores")+` form button[type=submit]`),
		textIn(row("Zeta Stores")+` td[data-column=sales_rep_id]`, "User "))
	require.Equal(t, rep.ID, app.Get(t, "/v1/locations/"+locs["Zeta Stores"], tn.AdminToken).Map(t)["sales_rep_id"])

	b.do("bulk: the two others, counted then run",
		click(row("Alpha Foods")+` input[type=checkbox]`),
		click(row("Mid Market")+` input[type=checkbox]`),
		choose(`select[name=bulk-rep]`, rep.ID),
		clickText("Count locations"),
		textIn(`[data-testid=location-bulk-preview]`, "2 locations will be updated"),
		clickText("Update them"),
		until(`document.querySelector("[data-testid=job]")?.dataset.state === "succeeded"`))
	for _, n := range []string{"Alpha Foods", "Mid Market"} {
		require.Equal(t, rep.ID, app.Get(t, "/v1/locations/"+locs[n], tn.AdminToken).Map(t)["sales_rep_id"], n)
	}
	b.shot("locations")
}

// TestSmsSettingsSecretsWriteOnly: a credential typed into the settings
// is saved (the API says it is set) and never shown again: the page
// says "set" with its last four characters, and its field is empty.
func TestSmsSettingsSecretsWriteOnly(t *testing.T) {
	// Secrets are stored encrypted: the application needs its key.
	app, b := startEnv(t, 390, map[string]string{"CUSTOMERHUB_SECRET_KEY": base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))})
	tn := app.Signup(t)
	const token = "Tok5ecretValue0009876"

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("the settings say the token is not set",
		chromedp.Navigate(b.base+"/app/sms/settings"),
		textIn(`[data-testid=sms-configured]`, "not set up"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=auth_token]`)))
	require.Contains(t, b.eval(`document.querySelector("input[name=auth_token]").closest(".field").textContent`), "Not set.")

	b.do("set the account, the token and the sender",
		typeInto(`input[name=account_sid]`, "AC0123456789abcdef0123456789abcdef"),
		typeInto(`input[name=from_number]`, "+14155550100"),
		typeInto(`input[name=auth_token]`, token),
		chromedp.SendKeys(chromedp.CSS(`input[name=auth_token]`), "\r"),
		textIn(`[data-testid=sms-configured]`, "is set up"),
		until(`document.querySelector("input[name=auth_token]").closest(".field").textContent.includes("ends in 9876")`))
	require.Equal(t, "", b.eval(`document.querySelector("input[name=auth_token]").value`), "the secret's field is empty again")
	require.NotContains(t, b.eval(`document.documentElement.outerHTML`), "5ecret", "the secret is not on the page")

	got := app.Get(t, "/v1/sms/settings", tn.AdminToken).Map(t)
	require.Equal(t, true, got["auth_token_set"])
	require.Equal(t, "+14155550100", got["from_number"])
	require.Equal(t, true, got["configured"])
	b.shot("sms-settings-390")
}

// TestSmsCampaignsScreen: a campaign is listed with its counts, and its
// messages (here all skipped, so nothing leaves for a phone) as the API
// lists them.
func TestSmsCampaignsScreen(t *testing.T) {
	app, b := startEnv(t, 1280, map[string]string{"CUSTOMERHUB_SECRET_KEY": base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))})
	tn := app.Signup(t)
	resp := app.Patch(t, "/v1/sms/settings", tn.AdminToken, `"1"`, map[string]any{
		"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "Tok5ecretValue0009876", "from_number": "+14155550100"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	for _, n := range []string{"Silent One", "Silent Two"} {
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": n})
	}
	resp = app.Post(t, "/v1/sms/receivable-notices", tn.AdminToken, map[string]any{
		"dry_run": false, "selection": map[string]any{"filter": map[string]string{"q": "Silent"}}, "template": "You owe {balance}"})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	var started struct {
		Campaign struct{ ID string } `json:"campaign"`
		Job      struct{ ID string } `json:"job"`
	}
	resp.JSON(t, &started)
	app.WaitJob(t, tn.AdminToken, started.Job.ID)
	var msgs struct {
		Items []map[string]any `json:"items"`
	}
	app.Get(t, "/v1/sms/messages?campaign_id="+started.Campaign.ID, tn.AdminToken).JSON(t, &msgs)
	require.Len(t, msgs.Items, 2)

	b.signIn(tn.Slug, tn.AdminEmail)
	b.do("the campaign is listed",
		clickText("SMS"),
		clickText("Campaigns"),
		textIn(fmt.Sprintf(`[data-testid=campaign-table] tr[data-id="%s"]`, started.Campaign.ID), "You owe {balance}"))
	b.do("its messages, as the API lists them",
		click(fmt.Sprintf(`[data-testid=campaign-table] tr[data-id="%s"] a`, started.Campaign.ID)),
		until(`document.querySelectorAll("[data-testid=message-table] tbody tr").length === 2`),
		textIn(`[data-testid=message-table]`, "Skipped"))
	for _, msg := range msgs.Items {
		require.Equal(t, "skipped", msg["state"])
	}
}

// TestSalesRepOnNewScreens: a sales rep gets what the role allows: the
// dormant customers without the sweep, SMS without settings, templates or
// sending, and another user's job shown as not found, never a blank page.
func TestSalesRepOnNewScreens(t *testing.T) {
	app, b := start(t, 390)
	tn := app.Signup(t)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Admin Only", "billing_status": "current"})
	resp := app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
		"dry_run": false, "selection": map[string]any{"filter": map[string]string{}}, "set": map[string]any{"billing_status": "on_hold"}})
	jobID := resp.Map(t)["job"].(map[string]any)["id"].(string)
	require.Equal(t, http.StatusNotFound, app.Get(t, "/v1/jobs/"+jobID, rep.Token).Status)

	b.signIn(tn.Slug, rep.Email)
	b.do("dormant customers without the sweep",
		chromedp.Navigate(b.base+"/app/dormant"),
		textIn(`.empty`, "No customer is dormant"))
	require.Equal(t, "false", b.eval(`String(!!document.querySelector("[data-testid=dormant-preview]"))`))

	b.do("SMS shows only the campaigns",
		chromedp.Navigate(b.base+"/app/sms/settings"),
		textIn(`.tabs`, "Campaigns"))
	require.Equal(t, "Campaigns", b.eval(`document.querySelector(".tabs").textContent`))
	require.Equal(t, "false", b.eval(`String(!!document.querySelector("input[name=auth_token]"))`))

	b.do("another user's job is not found",
		chromedp.Navigate(b.base+"/app/jobs/"+jobID),
		until(`document.querySelector(".problem")?.dataset.status === "404"`))
	b.do("the groups list has no New",
		chromedp.Navigate(b.base+"/app/groups"),
		textIn(`.empty`, "No customer groups match"))
	require.Equal(t, "false", b.eval(`String(!!document.querySelector("[data-testid=new-group]"))`))
}
