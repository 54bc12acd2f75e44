// Package console serves the back-office web console: a single-page app
// (internal/console/web, Preact and TypeScript bundled by esbuild) that
// talks only to the public /v1 API with the signed-in user's bearer
// token, so it can never do what the API would refuse.
//
// The built files (dist/app) are embedded in the binary and not committed:
// scripts/build-console.sh makes them, and make build, make run and make
// test run it first. A binary built without them answers /app with a 503
// that says so. Every path below /app that is not a built file answers
// the console's page, so an address inside the app survives a reload.
package console

import (
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/httpapi"
)

// Path is where the console is served.
const Path = "/app"

//go:embed all:dist
var dist embed.FS

// policy keeps the page to its own scripts and styles and to this
// origin's API: no inline script, no third party, no framing.
const policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// files are the built console: path below /app → content, and its gzip
// compression, made once at start (the script is about a third of its
// size compressed).
type files map[string]asset

type asset struct {
	raw, gzip []byte
}

func load() (files, error) {
	root, err := fs.Sub(dist, "dist/app")
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(root, "index.html"); errors.Is(err, fs.ErrNotExist) {
		// Built without the console (a fresh checkout's go run, say).
		return nil, nil
	}
	out := files{}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		_, _ = w.Write(b)
		if err := w.Close(); err != nil {
			return err
		}
		out[p] = asset{raw: b, gzip: z.Bytes()}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Built reports whether the binary carries the built console.
func Built() bool {
	f, err := load()
	return err == nil && f != nil
}

// Mount serves the console at /app (and sends / there) when enabled;
// otherwise /app is 404 like any unknown path.
func Mount(app *fiber.App, enabled bool) error {
	if !enabled {
		return nil
	}
	f, err := load()
	if err != nil {
		return err
	}
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect(Path+"/", fiber.StatusFound) })
	app.Get(Path+"/*", func(c *fiber.Ctx) error { return f.serve(c) })
	return nil
}

func (f files) serve(c *fiber.Ctx) error {
	if f == nil {
		return &httpapi.Error{Status: fiber.StatusServiceUnavailable, Code: "console_not_built",
			Message: "this binary was built without the web console: build it with make build (scripts/build-console.sh)"}
	}
	name := strings.TrimPrefix(path.Clean("/"+c.Params("*")), "/")
	if a, ok := f[name]; ok && name != "index.html" {
		// Built names carry a hash of their content: cache them for good.
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = fiber.MIMEOctetStream
		}
		c.Set(fiber.HeaderContentType, ct)
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		c.Vary(fiber.HeaderAcceptEncoding)
		if c.Context().Request.Header.HasAcceptEncoding("gzip") {
			c.Set(fiber.HeaderContentEncoding, "gzip")
			return c.Send(a.gzip)
		}
		return c.Send(a.raw)
	}
	if name != "" && strings.Contains(path.Base(name), ".") {
		// A file name that was not built (an old hash, a typo): 404, not
		// the page, so a stale script fails loudly.
		return httpapi.NotFound("file")
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", policy)
	c.Set("X-Frame-Options", "DENY")
	return c.Send(f["index.html"].raw)
}
