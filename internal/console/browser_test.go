package console_test

// The console in a real browser: headless Chromium (Debian's chromium,
// found at CHROMIUM_PATH or /usr/bin/chromium; make test installs it)
// driven through the DevTools protocol by chromedp, against the real
// service on a loopback port and the real database. Each test signs up a
// tenant of its own. A failing step saves a screenshot under
// bin/console-failures/ and names it in the failure; with
// CONSOLE_SCREENSHOTS=<dir> the tests also save the README's pictures.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/console"
	"github.com/customerhub/customerhub/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// stepTimeout bounds one step; a loaded CI machine runs the whole test
// suite beside the browser.
const stepTimeout = 45 * time.Second

type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: run make test (scripts/ensure-browser.sh installs Debian's chromium) or set CHROMIUM_PATH")
	return ""
}

// start serves the application on a loopback port with workers running,
// and opens a browser window of the given width on it.
func start(t *testing.T, width int) (*apptest.App, *browser) {
	t.Helper()
	return startEnv(t, width, nil)
}

// startEnv is start with settings of the application's environment added.
func startEnv(t *testing.T, width int, env map[string]string) (*apptest.App, *browser) {
	t.Helper()
	if !console.Built() {
		t.Fatal("the console is not built into this test binary: run make console (scripts/build-console.sh) first")
	}
	app := apptest.New(t, dbtest.Shared(t), env)
	app.StartWorkers(t)
	base := app.Listen(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("user-data-dir", t.TempDir()),
		chromedp.WindowSize(width, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first call on the tab's own context starts the browser: a step's
	// context, cancelled after it, would close it.
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	b := &browser{t: t, ctx: ctx, base: base}
	b.do("set the window size", chromedp.EmulateViewport(int64(width), 900))
	return app, b
}

// do runs one step; when it fails, the page is saved as a screenshot and
// the test stops naming the step and the picture.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("step %q: %v (screenshot: %s)", step, err, b.failureShot(step))
	}
}

func (b *browser) failureShot(step string) string {
	dir := filepath.Join(repoRoot(), "bin", "console-failures")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "none: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "none: " + err.Error()
	}
	name := filepath.Join(dir, safeName(b.t.Name()+"-"+step)+".png")
	if err := os.WriteFile(name, png, 0o644); err != nil {
		return "none: " + err.Error()
	}
	return name
}

// shot saves a picture for the README when CONSOLE_SCREENSHOTS names a
// directory.
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("CONSOLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err)
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// until waits for a JavaScript condition on the page.
func until(expr string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(stepTimeout))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		return chromedp.Void{}, err
	}
}

// textIn waits until the element sel shows text.
func textIn(sel, text string) chromedp.Action[chromedp.Void] {
	return until(fmt.Sprintf(`(document.querySelector(%s)?.textContent ?? "").includes(%s)`, js(sel), js(text)))
}

// choose picks the option of a select by value, as a user would (the
// change event fires).
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	ev := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el) throw new Error("no " + %s);
		el.value = %s; if (el.value !== %s) throw new Error("no option " + %s);
		el.dispatchEvent(new Event("change", { bubbles: true })); return true })()`, js(sel), js(sel), js(value), js(value), js(value)))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
			return chromedp.Void{}, err
		}
		_, err := ev(ctx, t)
		return chromedp.Void{}, err
	}
}

// typeInto clears a field and types text into it.
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	clear := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const el = document.querySelector(%s); el.value = "";
		el.dispatchEvent(new Event("input", { bubbles: true })); return true })()`, js(sel)))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
			return chromedp.Void{}, err
		}
		if _, err := clear(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(sel), text))
	}
}

func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}

// clickText clicks the first button or link whose text is text.
func clickText(text string) chromedp.Action[chromedp.Void] {
	ev := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const el = [...document.querySelectorAll("button, a, [role=tab]")]
		.find((e) => e.textContent.trim() === %s); if (!el) return false; el.click(); return true })()`, js(text)))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if err := chromedp.Do(ctx, until(fmt.Sprintf(`[...document.querySelectorAll("button, a, [role=tab]")].some((e) => e.textContent.trim() === %s)`, js(text)))); err != nil {
			return chromedp.Void{}, err
		}
		_, err := ev(ctx, t)
		return chromedp.Void{}, err
	}
}

// signIn opens the console and signs in.
func (b *browser) signIn(slug, email string) {
	b.t.Helper()
	b.do("open the sign-in page",
		chromedp.Navigate(b.base+"/app/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=tenant]`)))
	b.do("sign in",
		typeInto(`input[name=tenant]`, slug),
		typeInto(`input[name=email]`, email),
		typeInto(`input[name=password]`, apptest.Password),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "\r"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=signed-in-user]`)))
}

func (b *browser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	require.NoError(b.t, err, expr)
	return out
}

// headers are the customer table's column keys, in order.
func (b *browser) headers() []string {
	b.t.Helper()
	var cols []string
	require.NoError(b.t, json.Unmarshal([]byte(b.eval(`JSON.stringify([...document.querySelectorAll("[data-testid=customer-table] th")].map((th) => th.dataset.column))`)), &cols))
	return cols
}

// labelled fails the test when a control on the page has no name a
// screen reader can say: an input, select or textarea without a label
// or aria-label, or a button without text.
func (b *browser) labelled(screen string) {
	b.t.Helper()
	var unnamed []string
	require.NoError(b.t, json.Unmarshal([]byte(b.eval(`JSON.stringify([...document.querySelectorAll("input, select, textarea, button")]
		.filter((el) => el.type !== "hidden")
		.filter((el) => el.tagName === "BUTTON" ? !el.textContent.trim() && !el.getAttribute("aria-label")
			: !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
		.map((el) => el.outerHTML.slice(0, 120)))`)), &unnamed))
	require.Empty(b.t, unnamed, "controls without a label on the %s screen", screen)
}
