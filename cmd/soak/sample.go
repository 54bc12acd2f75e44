package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// sample is one 10-second reading of the running system. Counters
// (requests and errors) are totals since the start of the run; a loadgen
// round's requests count when the round ends, so they lag by up to one
// round (10 s).
type sample struct {
	At               time.Duration // since the load began
	APIRSS           int64         // bytes (VmRSS)
	WorkerRSS        int64
	APIGoroutines    int
	WorkerGoroutines int
	DBConnections    int // pg_stat_activity rows on the soak database
	IdempotencyKeys  int64
	AuditEvents      int64
	RiverJobs        int64
	Jobs             int64 // the application's jobs table
	DBBytes          int64 // pg_database_size
	Requests         uint64
	Errors5xx        uint64
	ErrorsTransport  uint64
	Errors4xx        uint64
	JobsStarted      int
	JobsFinished     int
}

// csvHeader names the columns of bench/soak.csv, in the order csvRow writes
// them.
var csvHeader = []string{
	"seconds", "api_rss_bytes", "worker_rss_bytes", "api_goroutines", "worker_goroutines",
	"db_connections", "idempotency_keys_rows", "audit_events_rows", "river_job_rows", "jobs_rows", "db_bytes",
	"requests", "errors_5xx", "errors_transport", "errors_4xx", "jobs_started", "jobs_finished",
}

func (s sample) csvRow() []string {
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	return []string{
		strconv.FormatFloat(s.At.Seconds(), 'f', 1, 64), i(s.APIRSS), i(s.WorkerRSS),
		strconv.Itoa(s.APIGoroutines), strconv.Itoa(s.WorkerGoroutines), strconv.Itoa(s.DBConnections),
		i(s.IdempotencyKeys), i(s.AuditEvents), i(s.RiverJobs), i(s.Jobs), i(s.DBBytes),
		u(s.Requests), u(s.Errors5xx), u(s.ErrorsTransport), u(s.Errors4xx),
		strconv.Itoa(s.JobsStarted), strconv.Itoa(s.JobsFinished),
	}
}

// csvLog appends samples to a CSV file as they are taken, so that a run
// that is stopped early still leaves what it measured.
type csvLog struct {
	w *csv.Writer
}

// newCSVLog writes the header row to w.
func newCSVLog(w io.Writer) (*csvLog, error) {
	l := &csvLog{w: csv.NewWriter(w)}
	if err := l.w.Write(csvHeader); err != nil {
		return nil, fmt.Errorf("write csv header: %w", err)
	}
	l.w.Flush()
	return l, l.w.Error()
}

// Append writes one row and flushes it.
func (l *csvLog) Append(s sample) error {
	if err := l.w.Write(s.csvRow()); err != nil {
		return fmt.Errorf("write csv row: %w", err)
	}
	l.w.Flush()
	return l.w.Error()
}
