package importer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// Exports (GET /v1/customers/export).
//
// An export is the customer list (the same filters, sort and visibility,
// parsed by customer.Service.ParseListRequest) written as a spreadsheet
// whose columns are the import template's (CustomerColumns), so that an
// export re-imports as it is. It reads the list with CustomerExportPage
// (CustomerList's filters and order, only the columns a spreadsheet shows,
// the references by code and e-mail and the default addresses joined in),
// as one statement whose rows are taken streamBatch at a time
// (Exporter.Stream, batchedQuery), and writes them through xlsx.Writer,
// which escapes formula-like text; memory holds one batch whatever the
// export's size (excelize spills a large sheet to a temporary file).
// Measured on 1,000,000 customers (BenchmarkExport): one statement sorts
// once, where keyset pages each walked an index and fetched their rows
// from the heap at random, ten times slower.
//
// Up to the configured limit (CUSTOMERHUB_EXPORT_SYNC_MAX) the answer is the
// file, streamed from one REPEATABLE READ read-only transaction. Beyond it
// the request starts a customer_export job (ExportJob) that writes the file
// in steps of exportStepRows customers into the file store, to be
// downloaded from GET /v1/jobs/{id}/result until it expires.
// include=locations exports read page by page (Exporter.Page): a page's
// locations take a statement of their own.

// IncludeLocations is the include= value that adds every location of a
// customer: one row per location, the customer's columns repeated and the
// location's in LocationHeaders (a customer without locations keeps one
// row with them empty). Such a file is for reading, not for re-import.
const IncludeLocations = "locations"

// LocationHeaders are the columns include=locations adds.
var LocationHeaders = []string{
	"location_label", "location_kinds", "location_default_billing", "location_default_shipping",
	"location_address_line1", "location_address_line2", "location_city", "location_region",
	"location_postal_code", "location_country", "location_phone",
}

// DefaultExportPage is how many customers an export reads per statement
// when it reads page by page (include=locations).
const DefaultExportPage = 10000

// streamBatch is how many rows of the one statement of an export answered
// at once are held at a time: small batches keep the live heap small, so
// the collector has less to scan.
const streamBatch = 1000

// streamAhead is how many batches the reading side of Stream may hold
// ready ahead of the writing side.
const streamAhead = 2

// ExportRequest is what an export asks for; a job keeps it as its params.
type ExportRequest struct {
	Format string `json:"format"`
	// Fields are the headers of the columns to write, in order; empty is
	// every column of the template.
	Fields  []string `json:"fields,omitempty"`
	Include []string `json:"include,omitempty"`
	// Query is the list's filters and sort (and view=) as the request gave
	// them; they are parsed again, as the acting user, when a job starts.
	Query map[string]string `json:"query"`
}

// Exporter writes customer exports.
type Exporter struct {
	Customers *customer.Service
	// PageSize is how many customers one statement reads
	// (DefaultExportPage when zero).
	PageSize int32
	Logger   *slog.Logger
	q        *dbsqlc.Queries
}

// NewExporter returns an Exporter.
func NewExporter(customers *customer.Service, logger *slog.Logger) *Exporter {
	return &Exporter{Customers: customers, Logger: logger, q: dbsqlc.New()}
}

// ExportPlan is a checked export: what to read and which columns to write.
type ExportPlan struct {
	Request   ExportRequest
	Format    xlsx.Format
	List      customer.ListParams
	Env       settings.Env
	Tenant    Tenant
	Columns   []Column
	Locations bool
}

// FileName is the name an export's file is offered under.
func (p ExportPlan) FileName(now time.Time) string {
	return "customers-" + now.UTC().Format("20060102-150405") + "." + p.Format.String()
}

// ParseFormat reads format= (xlsx when empty).
func ParseFormat(v string) (xlsx.Format, bool) {
	switch strings.ToLower(v) {
	case "", "xlsx":
		return xlsx.FormatXLSX, true
	case "csv":
		return xlsx.FormatCSV, true
	}
	return xlsx.FormatUnknown, false
}

// Plan checks an export request as actor sees the tenant now: its format,
// columns, include= and the list's filters. Every problem is reported at
// once, naming its parameter.
func (e *Exporter) Plan(ctx context.Context, tx database.Tx, actor *tenant.Principal, req ExportRequest) (ExportPlan, error) {
	var errs validation.Errors
	plan := ExportPlan{Request: req}
	f, ok := ParseFormat(req.Format)
	if !ok {
		errs.Add("format", "invalid_choice", "must be xlsx or csv")
	}
	plan.Format = f
	for _, inc := range req.Include {
		if inc != IncludeLocations {
			errs.Add("include", "invalid_choice", "must be locations")
		}
		plan.Locations = true
	}
	lr, err := e.Customers.ParseListRequest(ctx, tx, actor, req.Query)
	if verrs, ok := err.(validation.Errors); ok {
		errs = append(errs, verrs...)
	} else if err != nil {
		return plan, err
	}
	plan.List = lr.Params
	if plan.Env, err = e.Customers.Env(ctx, tx); err != nil {
		return plan, err
	}
	if plan.Tenant, err = LoadTenant(ctx, tx, plan.Env); err != nil {
		return plan, err
	}
	all := CustomerColumns(plan.Tenant)
	if len(req.Fields) == 0 {
		plan.Columns = all
	}
	for _, name := range req.Fields {
		i := slices.IndexFunc(all, func(c Column) bool { return strings.EqualFold(c.Header, name) })
		if i < 0 {
			errs.Add("fields", "unknown_column", "unknown column "+name+"; the columns are the import template's headers")
			continue
		}
		if slices.ContainsFunc(plan.Columns, func(c Column) bool { return c.Header == all[i].Header }) {
			errs.Add("fields", "duplicate_column", "column "+name+" is asked for twice")
			continue
		}
		plan.Columns = append(plan.Columns, all[i])
	}
	if err := errs.Err(); err != nil {
		return plan, err
	}
	return plan, nil
}

// Count counts the customers an export writes, up to limit.
func (e *Exporter) Count(ctx context.Context, tx database.Tx, actor *tenant.Principal, plan ExportPlan, limit int64) (int64, error) {
	return e.Customers.Count(ctx, tx, actor, plan.Env, plan.List, limit)
}

// ExportRun is an export being written: its file writer and how far the
// list has been read.
type ExportRun struct {
	plan ExportPlan
	args *dbsqlc.CustomerExportPageParams
	w    *xlsx.Writer
	// codes are the tenant's payment terms and price lists by id (ids
	// are unique across both).
	codes map[uuid.UUID]*string
	recs  []ExportRecord
	after *customer.Cursor
	// Rows counts the customers written so far.
	Rows int64
	done bool
	row  []any
}

// Start begins writing plan's file to out: the header row.
func (e *Exporter) Start(plan ExportPlan, out io.Writer) (*ExportRun, error) {
	cols := make([]xlsx.Column, 0, len(plan.Columns)+len(LocationHeaders))
	for _, c := range plan.Columns {
		cols = append(cols, xlsx.Column{Header: c.Header})
	}
	if plan.Locations {
		for _, h := range LocationHeaders {
			cols = append(cols, xlsx.Column{Header: h})
		}
	}
	w, err := xlsx.NewWriter(out, plan.Format, xlsx.WriterOptions{Sheet: "Customers", Columns: cols})
	if err != nil {
		return nil, fmt.Errorf("start export file: %w", err)
	}
	run := &ExportRun{plan: plan, w: w, codes: map[uuid.UUID]*string{}}
	for _, t := range plan.Tenant.PaymentTerms {
		run.codes[t.ID] = &t.Code
	}
	for _, l := range plan.Tenant.PriceLists {
		run.codes[l.ID] = &l.Code
	}
	return run, nil
}

// Done reports whether the whole list has been written.
func (r *ExportRun) Done() bool { return r.done }

// Close finishes the file (for xlsx, writes the whole package to out).
func (r *ExportRun) Close() error { return r.w.Close() }

// Abort releases the file's temporary storage without finishing it.
func (r *ExportRun) Abort() { _ = r.w.Close() }

// pageArgs returns the list query's arguments for the rows after the
// last one written, at most limit of them; ok is false for a list known
// to be empty.
func (e *Exporter) pageArgs(ctx context.Context, tx database.Tx, actor *tenant.Principal, r *ExportRun, limit int32) (dbsqlc.CustomerExportPageParams, bool, error) {
	if r.args == nil {
		p, empty, err := e.Customers.ExportArgs(ctx, tx, actor, r.plan.Env, r.plan.List)
		if err != nil || empty {
			return dbsqlc.CustomerExportPageParams{}, false, err
		}
		r.args = &p
	}
	p := *r.args
	p.RowLimit = limit
	if err := r.after.SetExportPage(&p); err != nil {
		return p, false, fmt.Errorf("export keyset: %w", err)
	}
	return p, true, nil
}

// Page reads and writes the next page of the list (DefaultExportPage
// customers) with one statement; after the last one Done reports true.
// include=locations exports read this way: a page's locations take a
// statement of their own, which the connection cannot run while another
// statement is open.
func (e *Exporter) Page(ctx context.Context, tx database.Tx, actor *tenant.Principal, r *ExportRun) error {
	if r.done {
		return nil
	}
	size := e.PageSize
	if size <= 0 {
		size = DefaultExportPage
	}
	p, ok, err := e.pageArgs(ctx, tx, actor, r, size)
	if err != nil || !ok {
		r.done = true
		return err
	}
	if p.SearchLike != nil {
		// As customer.Service.List: a common search term walks the sort's
		// index and filters.
		if err := e.q.CustomerPreferIndexOrder(ctx, tx); err != nil {
			return err
		}
	}
	rows, err := e.q.CustomerExportPage(ctx, tx, p)
	if err != nil {
		return fmt.Errorf("read export page: %w", err)
	}
	if p.SearchLike != nil {
		if err := e.q.CustomerRestorePlanner(ctx, tx); err != nil {
			return err
		}
	}
	if int32(len(rows)) < size {
		r.done = true
	}
	return e.write(ctx, tx, r, rows)
}

// Stream writes up to limit more customers (every one left when limit is
// 0) with one statement, its rows taken in batches as PostgreSQL produces
// them (batchedQuery): one plan for the lot (a sort of the selection,
// where short keyset pages would each walk an index and fetch every row
// from the heap at random), one snapshot. timeout, when set, is the
// statement's. include=locations exports go page by page (Page).
func (e *Exporter) Stream(ctx context.Context, tx database.Tx, actor *tenant.Principal, r *ExportRun, limit int32, timeout time.Duration) error {
	if r.plan.Locations {
		start := r.Rows
		for !r.done && (limit == 0 || r.Rows-start < int64(limit)) {
			if err := e.Page(ctx, tx, actor, r); err != nil {
				return err
			}
		}
		return nil
	}
	if r.done {
		return nil
	}
	want := limit
	if want == 0 {
		want = math.MaxInt32
	}
	p, ok, err := e.pageArgs(ctx, tx, actor, r, want)
	if err != nil || !ok {
		r.done = true
		return err
	}
	if timeout > 0 {
		if err := e.q.StatementTimeoutSet(ctx, tx, strconv.FormatInt(timeout.Milliseconds(), 10)); err != nil {
			return err
		}
	}
	// The statement's rows are read and decoded by a goroutine of their
	// own, streamAhead batches ahead of the one being encoded and written
	// (Stream's writing never uses the connection: the reader has it to
	// itself), so that reading and writing overlap; memory holds at most
	// streamAhead+2 batches.
	bq := &batchedQuery{db: tx, size: streamBatch}
	type batch struct {
		rows []dbsqlc.CustomerExportPageRow
		err  error
	}
	batches := make(chan batch, streamAhead)
	stop := make(chan struct{})
	go func() {
		defer close(batches)
		for !bq.Done() {
			rows, err := e.q.CustomerExportPage(ctx, bq, p)
			select {
			case batches <- batch{rows, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		for range batches {
		}
		bq.Close()
	}()
	var n int32
	for b := range batches {
		if b.err != nil {
			return fmt.Errorf("read export rows: %w", b.err)
		}
		n += int32(len(b.rows))
		if err := e.write(ctx, tx, r, b.rows); err != nil {
			return err
		}
	}
	if n < want {
		r.done = true
	}
	return nil
}

// write writes a batch of rows.
func (e *Exporter) write(ctx context.Context, tx database.Tx, r *ExportRun, rows []dbsqlc.CustomerExportPageRow) error {
	if len(rows) == 0 {
		return nil
	}
	recs := r.recs[:0]
	for _, row := range rows {
		recs = append(recs, r.record(row))
	}
	r.recs = recs
	details := make([]customer.Detail, len(recs))
	for i := range recs {
		details[i] = recs[i].Detail
	}
	r.after = customer.CursorAfter(r.plan.List.Sort, details[len(details)-1].Customer)
	var err error
	var locs map[uuid.UUID][]dbsqlc.CustomerLocation
	if r.plan.Locations {
		if locs, err = e.locations(ctx, tx, details); err != nil {
			return err
		}
	}
	for i := range recs {
		row := r.row[:0]
		for _, c := range r.plan.Columns {
			row = append(row, c.Export(&recs[i]))
		}
		if !r.plan.Locations {
			r.row = row
			if err := r.w.WriteRow(row); err != nil {
				return fmt.Errorf("write export row: %w", err)
			}
			continue
		}
		ls := locs[details[i].Customer.ID]
		if len(ls) == 0 {
			ls = []dbsqlc.CustomerLocation{{}}
		}
		n := len(row)
		for _, l := range ls {
			row = append(row[:n], locationCells(l)...)
			if err := r.w.WriteRow(row); err != nil {
				return fmt.Errorf("write export row: %w", err)
			}
		}
		r.row = row
	}
	r.Rows += int64(len(recs))
	return nil
}

// record is an export page's row as the columns read it: the customer
// with the fields a spreadsheet shows and the sort keys (figures, search
// text and reach are left out), its groups by category and code, its
// references by code and e-mail, its default addresses.
func (r *ExportRun) record(row dbsqlc.CustomerExportPageRow) ExportRecord {
	c := dbsqlc.Customer{ID: row.ID, Code: row.Code, Name: row.Name, Kind: row.Kind, Type: row.Type, ContactName: row.ContactName,
		Email: row.Email, Phone: row.Phone, Website: row.Website, TaxNumber: row.TaxNumber, Currency: row.Currency,
		DiscountRate: row.DiscountRate, PaymentTermsID: row.PaymentTermsID, DefaultPaymentMethod: row.DefaultPaymentMethod,
		TaxScheme: row.TaxScheme, PriceListID: row.PriceListID, CreditLimit: row.CreditLimit, CreditPeriodDays: row.CreditPeriodDays,
		CreditPolicy: row.CreditPolicy, BillingStatus: row.BillingStatus, BasisDate: row.BasisDate, SalesRepID: row.SalesRepID,
		Status: row.Status, Notes: row.Notes, Custom: row.Custom, Balance: row.Balance, TotalOrderValue: row.TotalOrderValue,
		LastOrderAt: row.LastOrderAt, UpdatedAt: row.UpdatedAt, CreatedAt: row.CreatedAt}
	rec := ExportRecord{Detail: customer.Detail{Customer: c}, SalesRepEmail: row.SalesRepEmail}
	for _, gc := range row.GroupCodes {
		if cat, code, ok := strings.Cut(gc, ":"); ok {
			rec.Detail.Groups = append(rec.Detail.Groups, group.Membership{Category: cat, Code: code})
		}
	}
	if c.PaymentTermsID != nil {
		rec.PaymentTermsCode = r.codes[*c.PaymentTermsID]
	}
	if c.PriceListID != nil {
		rec.PriceListCode = r.codes[*c.PriceListID]
	}
	if row.BillingLine1 != nil {
		rec.Billing = &dbsqlc.CustomerLocation{Line1: *row.BillingLine1, Line2: row.BillingLine2, City: textOf(row.BillingCity),
			Region: row.BillingRegion, PostalCode: row.BillingPostalCode, Country: textOf(row.BillingCountry)}
	}
	if row.ShippingLine1 != nil {
		rec.Shipping = &dbsqlc.CustomerLocation{Line1: *row.ShippingLine1, Line2: row.ShippingLine2, City: textOf(row.ShippingCity),
			Region: row.ShippingRegion, PostalCode: row.ShippingPostalCode, Country: textOf(row.ShippingCountry)}
	}
	return rec
}

// locations reads every location of a page's customers.
func (e *Exporter) locations(ctx context.Context, tx database.Tx, details []customer.Detail) (map[uuid.UUID][]dbsqlc.CustomerLocation, error) {
	ids := make([]uuid.UUID, len(details))
	for i, d := range details {
		ids[i] = d.Customer.ID
	}
	rows, err := e.q.LocationListForCustomers(ctx, tx, dbsqlc.LocationListForCustomersParams{TenantID: tx.TenantID(), CustomerIds: ids})
	if err != nil {
		return nil, fmt.Errorf("read export locations: %w", err)
	}
	out := make(map[uuid.UUID][]dbsqlc.CustomerLocation, len(details))
	for _, l := range rows {
		out[l.CustomerID] = append(out[l.CustomerID], l)
	}
	return out, nil
}

// locationCells are a location's cells (LocationHeaders); all empty for
// the zero location.
func locationCells(l dbsqlc.CustomerLocation) []any {
	if l.Label == "" && l.Line1 == "" {
		return make([]any, len(LocationHeaders))
	}
	return []any{l.Label, strings.Join(l.Kinds, ","), l.IsDefaultBilling, l.IsDefaultShipping, l.Line1, optional(l.Line2),
		l.City, optional(l.Region), optional(l.PostalCode), l.Country, optional(l.Phone)}
}

// textOf is *s, or "" for nil.
func textOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
