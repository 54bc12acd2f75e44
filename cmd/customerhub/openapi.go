package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/customerhub/customerhub/internal/config"
	"github.com/customerhub/customerhub/internal/server"
)

// runOpenAPI prints the OpenAPI description, indented, for the tools that
// check it and generate clients from it (make lint). It builds the route
// table as serve does but connects to nothing: the document depends only
// on the routes and the version.
func runOpenAPI(cfg config.Config, logger *slog.Logger, stdout io.Writer) error {
	s := server.New(server.Deps{Config: cfg, Logger: logger, Registry: prometheus.NewRegistry(), Version: version})
	var out bytes.Buffer
	if err := json.Indent(&out, s.OpenAPI, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := stdout.Write(out.Bytes())
	return err
}
