package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/customerhub/customerhub/internal/httpapi"
)

// RiverUIPath is where platform operators find River's web UI.
const RiverUIPath = "/admin/river"

// mountRiverUI serves River's UI to platform operators only: HTTP basic
// auth against CUSTOMERHUB_ADMIN_USER/CUSTOMERHUB_ADMIN_PASSWORD, a
// credential no tenant holds. A tenant's bearer token gets 404, as does
// everyone when no operator password is configured. The UI shows every
// tenant's jobs; job args carry ids only.
func mountRiverUI(ctx context.Context, app *fiber.App, rc *river.Client[pgx.Tx], user, password string, limit fiber.Handler, logger *slog.Logger) error {
	notFound := func(c *fiber.Ctx) error { return httpapi.NotFound("page") }
	if password == "" || rc == nil {
		app.Use(RiverUIPath, notFound)
		return nil
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints:                riverui.NewEndpoints(rc, nil),
		Logger:                   logger,
		Prefix:                   RiverUIPath,
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return fmt.Errorf("river ui: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return fmt.Errorf("start river ui: %w", err)
	}
	want := sha256.Sum256([]byte(user + ":" + password))
	app.Use(RiverUIPath, limit, func(c *fiber.Ctx) error {
		scheme, cred, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
		switch {
		case scheme == "" && cred == "":
			return operatorChallenge()
		case !strings.EqualFold(scheme, "Basic"):
			// Tenant tokens (Bearer) are not operator credentials; the UI
			// does not exist for them.
			return notFound(c)
		}
		raw, err := base64.StdEncoding.DecodeString(cred)
		got := sha256.Sum256(raw)
		if err != nil || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return operatorChallenge()
		}
		if !sameOrigin(c) {
			return httpapi.Forbidden("cross-site requests to the operator UI are refused")
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Next()
	}, adaptor.HTTPHandler(h))
	return nil
}

func operatorChallenge() error {
	return &httpapi.Error{Status: fiber.StatusUnauthorized, Code: "unauthorized", Message: "operator credentials required",
		Headers: map[string]string{fiber.HeaderWWWAuthenticate: `Basic realm="customerhub operators", charset="UTF-8"`}}
}

// sameOrigin refuses state-changing requests that do not show they come
// from the UI's own pages: browsers resend basic credentials on their own,
// so without this check another site could make an operator's browser
// cancel or delete jobs. A write must carry Sec-Fetch-Site: same-origin or
// an Origin naming this host, and nothing that says otherwise; a request
// with neither (a form from an old browser, a script without the header)
// is refused rather than trusted.
func sameOrigin(c *fiber.Ctx) bool {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return true
	}
	site := c.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" {
		return false // cross-site, same-site (another origin) or none
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || u.Host != string(c.Request().Host()) {
			return false
		}
	}
	return site == "same-origin" || origin != ""
}
