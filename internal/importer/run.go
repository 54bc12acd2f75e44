package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// Row outcomes.
const (
	outcomeFailed = iota
	outcomeCreated
	outcomeUpdated
	outcomeUnchanged
)

// row is one data row of the file as a kind parsed it.
type row struct {
	num  int
	errs []RowError
	// keys identify the row inside the file: two rows with the same key
	// are duplicates.
	keys    []rowKey
	outcome int
	// val is the kind's parsed row.
	val any
}

type rowKey struct {
	column string
	value  string
}

func (r *row) fail(column, value, code, message string) {
	r.errs = append(r.errs, RowError{Row: r.num, Column: column, Value: value, Code: code, Message: message})
}

// table is a kind's column table bound to a file's header: it parses the
// rows and checks (and writes) batches of them.
type table interface {
	// parse reads one row's cells (cells[i] is the header's column i).
	parse(num int, cells []xlsx.Cell) *row
	// apply checks the rows (all parsed without error), deciding each
	// one's outcome or failing it, and writes them when write is set.
	apply(ctx context.Context, tx database.Tx, actor *tenant.Principal, rows []*row, write bool, sum *Summary) error
}

// matched is a header matched to a kind's column table.
type matched struct {
	table   table
	unknown []string
}

// headerError refuses a file whose header cannot be imported (a required
// column missing, a column mapped twice, an unknown field in the mapping).
type headerError struct {
	Message string
}

func (e *headerError) Error() string { return e.Message }

// cursor is where an import stands: the pass ('v' validates without
// writing, 'w' writes) and the last row number done in it.
type cursor struct {
	pass byte
	last int
}

func (c cursor) String() string { return string(c.pass) + ":" + strconv.Itoa(c.last) }

func parseCursor(s *string, p Params) cursor {
	first := cursor{pass: 'w'}
	if p.DryRun || p.AllOrNothing {
		first.pass = 'v'
	}
	if s == nil {
		return first
	}
	pass, last, ok := strings.Cut(*s, ":")
	n, err := strconv.Atoi(last)
	if !ok || err != nil || (pass != "v" && pass != "w") {
		return first
	}
	return cursor{pass: pass[0], last: n}
}

func paramsOf(r dbsqlc.Import) Params {
	p := Params{Kind: r.Kind, Mode: r.Mode, MatchOn: r.MatchOn, DryRun: r.DryRun, AllOrNothing: r.AllOrNothing, Sheet: r.Sheet}
	_ = json.Unmarshal(r.Mapping, &p.Mapping)
	return p
}

// Step is one batch of an import job (a jobs.Step): it reads the next
// rows of the file, checks them, writes them unless this is a validating
// pass, and saves the import's counts, errors and resume point, all in
// the batch's transaction.
func (s *Service) Step(ctx context.Context, tx database.Tx, actor *tenant.Principal, p *jobs.Progress) (bool, error) {
	var jp jobParams
	if err := json.Unmarshal(p.Params, &jp); err != nil {
		return false, jobs.Fail("the import job's parameters cannot be read")
	}
	imp, err := s.q.ImportGetForUpdate(ctx, tx, dbsqlc.ImportGetForUpdateParams{TenantID: tx.TenantID(), ID: jp.ImportID})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, jobs.Fail("the import no longer exists")
	}
	if err != nil {
		return false, fmt.Errorf("lock import: %w", err)
	}
	if jobs.Terminal(imp.State) {
		return true, nil
	}
	params := paramsOf(imp)
	cur := parseCursor(p.Cursor, params)
	var counts Counts
	var sum Summary
	_ = json.Unmarshal(imp.Counts, &counts)
	_ = json.Unmarshal(imp.Summary, &sum)
	// Audit events of the import name it as their origin.
	ctx = tenant.WithRequestID(ctx, "import:"+imp.ID.String())

	src := s.open.take(imp.ID, cur.pass, cur.last)
	if src == nil {
		if src, err = s.openSource(ctx, tx, actor, imp, params, cur); err != nil {
			if reason, ok := fileError(err); ok {
				return false, jobs.Fail(reason)
			}
			return false, err
		}
	}
	keep := false
	defer func() {
		if keep {
			s.open.put(imp.ID, src)
		} else {
			src.close()
		}
	}()

	rows, err := s.readBatch(src, imp)
	if err != nil {
		return false, err
	}
	write := cur.pass == 'w' && !params.DryRun
	var valid []*row
	for _, r := range rows {
		if len(r.errs) == 0 {
			valid = append(valid, r)
		}
	}
	if len(valid) > 0 {
		if err := src.header.table.apply(ctx, tx, actor, valid, write, &sum); err != nil {
			return false, err
		}
	}
	var errs []RowError
	for _, r := range rows {
		if len(r.errs) > 0 {
			r.outcome = outcomeFailed
			errs = append(errs, r.errs...)
		}
		if cur.pass == 'v' || !params.AllOrNothing {
			counts.Total++
		}
		switch r.outcome {
		case outcomeFailed:
			counts.Failed++
		case outcomeCreated:
			counts.Created++
		case outcomeUpdated:
			counts.Updated++
		case outcomeUnchanged:
			counts.Unchanged++
		}
	}
	if err := s.saveErrors(ctx, tx, imp, errs); err != nil {
		return false, err
	}
	if len(rows) > 0 {
		cur.last = rows[len(rows)-1].num
	}
	p.Processed += int64(len(rows))
	state, done := jobs.StateRunning, false
	var finished *time.Time
	var reason *string
	if src.eof {
		switch {
		case counts.Total == 0:
			return false, jobs.Fail("the file has a header but no rows below it: nothing to import")
		case cur.pass == 'v' && params.AllOrNothing && !params.DryRun && counts.Failed == 0:
			// Every row is valid: write them all, from the top.
			cur = cursor{pass: 'w'}
			counts.Created, counts.Updated, counts.Unchanged = 0, 0, 0
			total := counts.Total
			p.Total, p.Processed = &total, 0
		default:
			if cur.pass == 'v' && params.AllOrNothing && !params.DryRun {
				// Some row is invalid: nothing is written.
				counts.Created, counts.Updated, counts.Unchanged = 0, 0, 0
				msg := fmt.Sprintf("nothing was imported: %d of %d rows have errors (all_or_nothing)", counts.Failed, counts.Total)
				reason = &msg
			}
			total := counts.Total
			p.Total = &total
			now := time.Now()
			state, done, finished = jobs.StateSucceeded, true, &now
			if reason != nil {
				// Nothing was imported: the import failed, though its
				// job did all it had to.
				state = jobs.StateFailed
			}
		}
	}
	p.Cursor = new(string)
	*p.Cursor = cur.String()
	p.Result = map[string]any{"import_id": imp.ID, "counts": counts}
	if err := s.q.ImportSetState(ctx, tx, dbsqlc.ImportSetStateParams{TenantID: tx.TenantID(), ID: imp.ID, State: state,
		Counts: mustJSON(counts), UnknownColumns: src.header.unknown, Summary: mustJSON(sum), Reason: reason,
		FinishedAt: finished}); err != nil {
		return false, fmt.Errorf("save import: %w", err)
	}
	if !done && !src.eof {
		src.pass, src.last = cur.pass, cur.last
		keep = true
	}
	return done, nil
}

// readBatch reads the next batch of rows, parsed, with duplicates inside
// the file failed.
func (s *Service) readBatch(src *source, imp dbsqlc.Import) ([]*row, error) {
	if src.rows == nil {
		src.readAhead(s.batch())
	}
	var rows []*row
	for len(rows) < s.batch() {
		r, ok := <-src.rows
		if !ok {
			src.eof = true
			break
		}
		rows = append(rows, r)
	}
	if src.eof {
		if err := src.readErr; err != nil {
			if reason, ok := fileError(err); ok {
				return nil, jobs.Fail(reason)
			}
			return nil, err
		}
	}
	return rows, nil
}

// see records the row's keys, failing it when an earlier row has one.
func (src *source) see(r *row) *row {
	for _, k := range r.keys {
		if k.value == "" {
			continue
		}
		id := k.column + "\x00" + strings.ToLower(k.value)
		if first, dup := src.seen[id]; dup && first != r.num {
			r.fail(k.column, k.value, "duplicate_in_file",
				fmt.Sprintf("rows %d and %d have the same %s", first, r.num, k.column))
			continue
		}
		src.seen[id] = r.num
	}
	return r
}

// openSource copies the import's file to a temporary file, opens it,
// matches its header and skips the rows done (re-reading their keys, so
// that duplicates of them are still found).
func (s *Service) openSource(ctx context.Context, tx database.Tx, actor *tenant.Principal, imp dbsqlc.Import, params Params, cur cursor) (*source, error) {
	path, err := copyToTemp(ctx, s.db, tx.Scope(), imp.FileID, s.TempDir)
	if err != nil {
		return nil, err
	}
	src := &source{path: path, pass: cur.pass, seen: map[string]int{}}
	ok := false
	defer func() {
		if !ok {
			src.close()
		}
	}()
	format := xlsx.FormatCSV
	if imp.Format == "xlsx" {
		format = xlsx.FormatXLSX
	}
	opts := xlsx.Options{TempDir: s.TempDir}
	if params.Sheet != nil {
		opts.Sheet = *params.Sheet
	}
	if src.reader, err = xlsx.Open(path, format, opts); err != nil {
		return nil, err
	}
	if !src.reader.Next() {
		if err := src.reader.Err(); err != nil {
			return nil, err
		}
		return nil, xlsx.ErrNoRows
	}
	_, cells := src.reader.Row()
	headers := make([]string, len(cells))
	for i, c := range cells {
		headers[i] = c.Text()
	}
	if src.header, err = s.match(ctx, tx, actor, params, headers); err != nil {
		return nil, err
	}
	for src.last < cur.last {
		num, cells, more := src.next()
		if !more {
			break
		}
		if num > cur.last {
			src.pending = &pendingRow{num: num, cells: cells}
			break
		}
		src.see(src.header.table.parse(num, cells))
		src.last = num
	}
	src.last = cur.last
	ok = true
	return src, nil
}

// match binds the kind's column table to the header.
func (s *Service) match(ctx context.Context, tx database.Tx, actor *tenant.Principal, params Params, headers []string) (*matched, error) {
	switch params.Kind {
	case KindCustomerPrices:
		return matchPrices(ctx, tx, s, actor, params, headers)
	default:
		return matchCustomers(ctx, tx, s, actor, params, headers)
	}
}

// saveErrors records a batch's row errors, numbered within their row.
func (s *Service) saveErrors(ctx context.Context, tx database.Tx, imp dbsqlc.Import, errs []RowError) error {
	if len(errs) == 0 {
		return nil
	}
	p := dbsqlc.ImportErrorsInsertParams{TenantID: tx.TenantID(), ImportID: imp.ID, CreatedBy: imp.CreatedBy}
	seq := 0
	for i, e := range errs {
		if i > 0 && errs[i-1].Row == e.Row {
			seq++
		} else {
			seq = 0
		}
		p.Rows = append(p.Rows, int32(e.Row))
		p.Seqs = append(p.Seqs, int32(seq))
		p.Columns = append(p.Columns, e.Column)
		p.Vals = append(p.Vals, truncate(e.Value, 1000))
		p.Codes = append(p.Codes, e.Code)
		p.Messages = append(p.Messages, e.Message)
	}
	if err := s.q.ImportErrorsInsert(ctx, tx, p); err != nil {
		return fmt.Errorf("record row errors: %w", err)
	}
	return nil
}
