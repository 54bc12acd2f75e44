package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
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
