// Package loadplan is cmd/loadgen's input and output, and a way to run it:
// the benchmarks (internal/loadbench) and the soak (cmd/soak) drive load
// through the same plan and read the same report.
package loadplan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Target is one request of a plan: method, url, header, body (base64 in
// JSON), as vegeta reads it.
type Target = vegeta.Target

// Plan is loadgen's input: Targets sent round robin from Workers
// connections for Duration, each request given up after Timeout (a Go
// duration; 10s when empty).
type Plan struct {
	Workers  uint64   `json:"workers"`
	Duration string   `json:"duration"`
	Timeout  string   `json:"timeout,omitempty"`
	Targets  []Target `json:"targets"`
}

// Report is loadgen's output. Latencies are in milliseconds; Throughput
// counts 2xx answers per second.
type Report struct {
	Requests    uint64         `json:"requests"`
	Seconds     float64        `json:"seconds"`
	Throughput  float64        `json:"throughput"`
	Success     float64        `json:"success"`
	P50         float64        `json:"p50_ms"`
	P90         float64        `json:"p90_ms"`
	P95         float64        `json:"p95_ms"`
	P99         float64        `json:"p99_ms"`
	Max         float64        `json:"max_ms"`
	StatusCodes map[string]int `json:"status_codes"`
	Errors      []string       `json:"errors"`
}

// Run runs the loadgen binary at path on p and reads its report.
func Run(ctx context.Context, path string, p Plan) (Report, error) {
	in, err := json.Marshal(p)
	if err != nil {
		return Report{}, err
	}
	cmd := exec.CommandContext(ctx, path)
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return Report{}, fmt.Errorf("loadgen: %w: %s", err, errOut.String())
	}
	var r Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return Report{}, fmt.Errorf("loadgen output: %w: %s", err, out.String())
	}
	return r, nil
}
