// The import pipeline (columns.go is the column table) imports customers
// (and customer item prices) from spreadsheets: POST /v1/imports stores the upload in the file store
// (internal/files) and queues a tenant job in the same transaction; the
// job reads the file as a stream (internal/xlsx), matches its header to a
// kind's column table, and works through the rows in batches.
//
// A kind is a column table (columns.go: the customer's, derived from the
// field specification; prices.go: customer_code, sku, price) plus how a
// batch of its rows is checked and written; the pipeline around it
// (reading, header matching, batching, duplicates inside the file, row
// errors, counts, dry runs, all-or-nothing, resuming) is the same.
//
// Each batch runs in its own transaction of the jobs runner (jobs.Run),
// as the user who started the import, and commits what it wrote together
// with the import's counts, its row errors and the resume point (the last
// row number done), so a worker killed mid-import resumes at the first
// unfinished batch: in the end exactly the file's rows, none twice.
// Validation is the API's (customer.Patch.Apply), not a copy; rows are
// written through a temporary staging table (COPY, then one set-based
// statement per batch: COPY into a table under row-level security is
// refused). The staging statements are constants in this package because
// sqlc cannot see temporary tables.
//
// With all_or_nothing the file is read twice: once to validate every row
// (nothing written), and, only when no row failed, once more to write. A
// dry run is the first pass alone.

package importer

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/jobs"
)

// Kinds of import.
const (
	KindCustomers      = "customers"
	KindCustomerPrices = "customer_prices"
)

// Modes.
const (
	ModeCreate = "create"
	ModeUpdate = "update"
	ModeUpsert = "upsert"
)

// Match keys of update and upsert.
const (
	MatchCode      = "code"
	MatchTaxNumber = "tax_number"
	MatchEmail     = "email"
)

var (
	kinds   = []string{KindCustomers, KindCustomerPrices}
	modes   = []string{ModeCreate, ModeUpdate, ModeUpsert}
	matches = []string{MatchCode, MatchTaxNumber, MatchEmail}
)

// Sentinel errors.
var (
	ErrNotFound = errors.New("import not found")
)

// JobKind is the job kind of imports.
const JobKind = "import"

// DefaultBatch is how many rows one transaction of an import writes.
const DefaultBatch = 2000

// DefaultMaxBytes is the default upload limit (CUSTOMERHUB_IMPORT_MAX_BYTES).
const DefaultMaxBytes = 50 << 20

// DefaultRetention is how long an import and its file are kept
// (CUSTOMERHUB_IMPORT_RETENTION).
const DefaultRetention = 30 * 24 * time.Hour

// Args is the River job of an import; what was asked lives in the
// tenant's imports row.
type Args struct {
	jobs.Ref
	ImportID uuid.UUID `json:"import_id"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return JobKind }

// Permission implements jobs.Args.
func (Args) Permission() string { return auth.PermCustomersImport }

// InsertOpts puts imports on the bulk queue.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueBulk, MaxAttempts: 10}
}

// PurgeArgs is the periodic job deleting imports (and their files) past
// their retention.
type PurgeArgs struct{}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "imports_purge" }

// InsertOpts makes the job unique per hour.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// Counts are an import's row counts.
type Counts struct {
	Total     int64 `json:"total"`
	Created   int64 `json:"created"`
	Updated   int64 `json:"updated"`
	Unchanged int64 `json:"unchanged"`
	Failed    int64 `json:"failed"`
}

// RowError is an error of one row (and column, when it is about one cell).
// Row is the spreadsheet's row number: the header is row 1.
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Value   string `json:"value"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Summary is what an import did besides rows.
type Summary struct {
	// PaymentTermsCreated lists the payment terms created from values
	// that read as terms ("Net 30").
	PaymentTermsCreated []CreatedTerms `json:"payment_terms_created,omitempty"`
}

// CreatedTerms is payment terms an import created.
type CreatedTerms struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	DueDays int32  `json:"due_days"`
}

// Params is what an import asks, as stored in its row.
type Params struct {
	Kind         string            `json:"kind"`
	Mode         string            `json:"mode"`
	MatchOn      string            `json:"match_on"`
	DryRun       bool              `json:"dry_run"`
	AllOrNothing bool              `json:"all_or_nothing"`
	Mapping      map[string]string `json:"mapping,omitempty"`
	Sheet        *string           `json:"sheet,omitempty"`
}

// jobParams are the tenant job's params: the import it runs.
type jobParams struct {
	ImportID uuid.UUID `json:"import_id"`
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
