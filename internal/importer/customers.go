package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/customer/fieldspec"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// custTable is the customer column table bound to a file's header.
type custTable struct {
	svc      *Service
	params   Params
	env      settings.Env
	tenant   Tenant
	resolver *Resolver
	cols     []Column
	colOf    []*Column // per header cell; nil when unknown
	loc      locale
	matchCol string // the header of the match_on column
	groupIDs map[string]uuid.UUID
}

// custRow is a parsed customer row.
type custRow struct {
	row Row
	// texts are the row's cells as shown, per header cell (for errors).
	texts []string
	// empty are the header cells of columns whose cell is empty: cleared
	// when the row updates a customer, left to defaults when it creates.
	empty []int
	key   string // the match_on value, normalized

	existing *dbsqlc.Customer
	rec      customer.Record
	id       uuid.UUID
	groups   map[string]uuid.UUID // category -> group, for the groups the row sets
	leave    []string             // categories the row leaves
	addrs    []*address
}

func matchCustomers(ctx context.Context, tx database.Tx, s *Service, _ *tenant.Principal, p Params, headers []string) (*matched, error) {
	env, err := s.customers.Env(ctx, tx)
	if err != nil {
		return nil, err
	}
	t, err := LoadTenant(ctx, tx, env)
	if err != nil {
		return nil, err
	}
	cols := CustomerColumns(t)
	m, errs := MatchHeaders(cols, headers, p.Mapping)
	if len(errs) > 0 {
		return nil, &headerError{Message: "the header cannot be imported: " + errs.Error()}
	}
	tb := &custTable{svc: s, params: p, env: env, tenant: t, resolver: NewResolver(t), cols: cols, colOf: m.Columns,
		loc: localeOf(env.Settings.DefaultCountry), groupIDs: map[string]uuid.UUID{}}
	for _, g := range t.Groups {
		tb.groupIDs[g.Category+"\x00"+g.Code] = g.ID
	}
	matchField := p.MatchOn
	if c, ok := ForField(cols, matchField); ok {
		tb.matchCol = c.Header
	}
	has := func(field string) bool {
		for _, c := range m.Columns {
			if c != nil && c.Field == field {
				return true
			}
		}
		return false
	}
	if p.Mode != ModeCreate && !has(matchField) {
		return nil, &headerError{Message: fmt.Sprintf("the file has no %s column: %s imports match customers on it (match_on=%s)", tb.matchCol, p.Mode, p.MatchOn)}
	}
	if p.Mode == ModeCreate {
		var missing []string
		for _, c := range cols {
			if c.Required && !has(c.Field) {
				missing = append(missing, c.Header)
			}
		}
		if len(missing) > 0 {
			return nil, &headerError{Message: "the file has no column " + strings.Join(missing, ", ") + ", which a new customer needs"}
		}
	}
	return &matched{table: tb, unknown: m.Unknown}, nil
}

var taxKeyRE = regexp.MustCompile(`[^[:alnum:]]+`)

// matchKey normalizes a match value as the lookup compares it.
func matchKey(matchOn, v string) string {
	v = strings.TrimSpace(v)
	switch matchOn {
	case MatchEmail:
		return strings.ToLower(v)
	case MatchTaxNumber:
		return strings.ToUpper(taxKeyRE.ReplaceAllString(v, ""))
	}
	return v
}

func (t *custTable) parse(num int, cells []xlsx.Cell) *row {
	r := &row{num: num}
	cr := &custRow{texts: make([]string, len(t.colOf))}
	r.val = cr
	var code, match string
	for j, col := range t.colOf {
		if col == nil {
			continue
		}
		var c xlsx.Cell
		if j < len(cells) {
			c = cells[j]
		}
		cr.texts[j] = c.Text()
		v, ok := readCell(r, col.Header, c, col.Kind, t.loc)
		if !ok {
			continue
		}
		if v == nil {
			cr.empty = append(cr.empty, j)
			continue
		}
		if err := col.Import(&cr.row, v); err != nil {
			r.fail(col.Header, cr.texts[j], "invalid", err.Error())
			continue
		}
		switch col.Field {
		case "code":
			code = strings.TrimSpace(asTextString(v))
		case t.params.MatchOn:
			match = asTextString(v)
		}
	}
	if t.params.MatchOn == MatchCode {
		match = code
	}
	cr.key = matchKey(t.params.MatchOn, match)
	if code != "" {
		r.keys = append(r.keys, rowKey{column: "code", value: code})
	}
	if t.params.MatchOn != MatchCode && cr.key != "" {
		r.keys = append(r.keys, rowKey{column: t.matchCol, value: cr.key})
	}
	return r
}

// failField records a validation error of the row, under the column that
// fills the field (the error's field is a header already when the
// resolver made it).
func (t *custTable) failField(r *row, cr *custRow, e validation.FieldError) {
	header := e.Field
	if c, ok := ForField(t.cols, e.Field); ok {
		header = c.Header
	}
	value := ""
	for j, col := range t.colOf {
		if col != nil && col.Header == header {
			value = cr.texts[j]
		}
	}
	r.fail(header, value, e.Code, e.Message)
}

func (t *custTable) failErr(r *row, cr *custRow, err error) error {
	var ve validation.Errors
	if errors.As(err, &ve) {
		for _, e := range ve {
			t.failField(r, cr, e)
		}
		return nil
	}
	return err
}

// termsRE reads payment terms from text: "Net 30", "30 days", "N30",
// "Net 30 days", "Due on receipt", "COD".
var (
	termsDaysRE    = regexp.MustCompile(`(?i)^\s*(?:net\s*|n)?(\d{1,3})\s*(?:days?|d)?\s*(?:net)?\s*$`)
	termsReceiptRE = regexp.MustCompile(`(?i)^\s*(?:due\s+(?:on|upon)\s+receipt|on\s+receipt|cash\s+on\s+delivery|cod|immediate(?:ly)?)\s*$`)
)

// termsFromText reads text as payment terms: their due days, a code and a
// name.
func termsFromText(s string) (days int32, code, name string, ok bool) {
	if termsReceiptRE.MatchString(s) {
		return 0, "DUE_ON_RECEIPT", "Due on receipt", true
	}
	m := termsDaysRE.FindStringSubmatch(s)
	if m == nil || !strings.ContainsAny(strings.ToLower(s), "nd") {
		return 0, "", "", false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n > 365 {
		return 0, "", "", false
	}
	return int32(n), "NET" + m[1], "Net " + m[1], true
}

// createTerms creates the payment terms that the rows name, that exist
// under no code or name, and that read as terms; a dry run only lists
// them.
func (t *custTable) createTerms(ctx context.Context, tx database.Tx, rows []Row, write bool, sum *Summary) error {
	for _, text := range t.resolver.UnknownPaymentTerms(rows) {
		days, code, name, ok := termsFromText(text)
		if !ok {
			continue
		}
		pt := dbsqlc.PaymentTerm{TenantID: tx.TenantID(), ID: uuid.New(), Code: code, Name: name, DueDays: days}
		if write {
			got, err := dbsqlc.New().PaymentTermsInsert(ctx, tx, dbsqlc.PaymentTermsInsertParams{
				TenantID: tx.TenantID(), ID: pt.ID, Code: code, Name: name, DueDays: days})
			if errors.Is(err, pgx.ErrNoRows) {
				// The code exists under another name: use those terms.
				continue
			}
			if err != nil {
				return fmt.Errorf("create payment terms: %w", err)
			}
			pt = got
		}
		t.resolver.AddPaymentTerms(pt)
		// "net 30" and "Net 30" resolve to the terms just made.
		t.resolver.terms.add(text, pt.ID)
		sum.PaymentTermsCreated = append(sum.PaymentTermsCreated, CreatedTerms{Code: pt.Code, Name: pt.Name, DueDays: days})
	}
	return nil
}

func (t *custTable) apply(ctx context.Context, tx database.Tx, actor *tenant.Principal, rows []*row, write bool, sum *Summary) error {
	crs := make([]*custRow, len(rows))
	plain := make([]Row, len(rows))
	for i, r := range rows {
		crs[i] = r.val.(*custRow)
		plain[i] = crs[i].row
	}
	if err := t.resolver.LoadSalesReps(ctx, tx, plain); err != nil {
		return err
	}
	if err := t.createTerms(ctx, tx, plain, write, sum); err != nil {
		return err
	}
	existing, err := t.existing(ctx, tx, crs)
	if err != nil {
		return err
	}
	var creates, updates []*row
	for i, r := range rows {
		cr := crs[i]
		for _, e := range t.resolver.Resolve(&cr.row) {
			t.failField(r, cr, e)
		}
		cr.existing = existing[cr.key]
		if cr.key == "" && t.params.MatchOn != MatchCode {
			cr.existing = nil
		}
		switch {
		case cr.existing != nil && t.params.Mode == ModeCreate:
			r.fail(t.matchCol, cr.key, "already_exists", "a customer with this "+t.matchCol+" already exists")
		case cr.existing == nil && t.params.Mode == ModeUpdate:
			r.fail(t.matchCol, cr.key, "not_found", "no customer you can see has this "+t.matchCol)
		case cr.existing == nil && t.params.MatchOn != MatchCode && cr.key == "" && t.params.Mode == ModeUpsert:
			r.fail(t.matchCol, "", "required", "must not be empty: rows are matched on it")
		}
		if len(r.errs) > 0 {
			continue
		}
		if cr.existing != nil {
			if err := t.prepareUpdate(ctx, tx, actor, r, cr); err != nil {
				return err
			}
			if len(r.errs) == 0 {
				updates = append(updates, r)
			}
		} else {
			if err := t.prepareCreate(actor, r, cr); err != nil {
				return err
			}
			if len(r.errs) == 0 {
				creates = append(creates, r)
			}
		}
	}
	if err := t.addresses(ctx, tx, append(append([]*row(nil), creates...), updates...)); err != nil {
		return err
	}
	creates, updates = valid(creates), valid(updates)
	if err := t.groupsOf(ctx, tx, updates); err != nil {
		return err
	}
	var changed []*row
	for _, r := range updates {
		if t.unchanged(r.val.(*custRow)) {
			r.outcome = outcomeUnchanged
			continue
		}
		r.outcome = outcomeUpdated
		changed = append(changed, r)
	}
	for _, r := range creates {
		r.outcome = outcomeCreated
	}
	if !write {
		return nil
	}
	return t.write(ctx, tx, actor, creates, changed)
}

// valid keeps the rows without errors.
func valid(rows []*row) []*row {
	out := rows[:0]
	for _, r := range rows {
		if len(r.errs) == 0 {
			out = append(out, r)
		}
	}
	return out
}

// existing finds the customers the rows match, as the caller sees them,
// by their normalized match value.
func (t *custTable) existing(ctx context.Context, tx database.Tx, crs []*custRow) (map[string]*dbsqlc.Customer, error) {
	var keys []string
	for _, cr := range crs {
		if cr.key != "" {
			keys = append(keys, cr.key)
		}
	}
	out := map[string]*dbsqlc.Customer{}
	if len(keys) == 0 {
		return out, nil
	}
	q := dbsqlc.New()
	var found []dbsqlc.Customer
	var err error
	switch t.params.MatchOn {
	case MatchEmail:
		found, err = q.ImportCustomersByEmail(ctx, tx, dbsqlc.ImportCustomersByEmailParams{TenantID: tx.TenantID(), Emails: keys})
	case MatchTaxNumber:
		found, err = q.ImportCustomersByTaxNumber(ctx, tx, dbsqlc.ImportCustomersByTaxNumberParams{TenantID: tx.TenantID(), TaxNumbers: keys})
	default:
		found, err = q.ImportCustomersByCodes(ctx, tx, dbsqlc.ImportCustomersByCodesParams{TenantID: tx.TenantID(), Codes: keys})
	}
	if err != nil {
		return nil, fmt.Errorf("find customers: %w", err)
	}
	for i := range found {
		c := &found[i]
		var k string
		switch t.params.MatchOn {
		case MatchEmail:
			k = matchKey(MatchEmail, deref(c.Email))
		case MatchTaxNumber:
			k = matchKey(MatchTaxNumber, deref(c.TaxNumber))
		default:
			k = c.Code
		}
		if _, dup := out[k]; dup {
			// Two customers share the value: the row cannot say which.
			out[k] = &dbsqlc.Customer{}
			continue
		}
		out[k] = c
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// prepareCreate applies a row to a new customer.
func (t *custTable) prepareCreate(actor *tenant.Principal, r *row, cr *custRow) error {
	p := cr.row.Customer
	if !p.SalesRepID.Set && actor.Visibility == tenant.VisibilityAssigned {
		uid := actor.UserID
		p.SalesRepID = patch.Field[uuid.UUID]{Set: true, Value: &uid}
	}
	cr.rec = customer.NewRecord()
	if err := t.failErr(r, cr, p.Apply(&cr.rec, t.env)); err != nil {
		return err
	}
	if err := t.failErr(r, cr, customer.CheckRepRule(actor, true, cr.rec.SalesRepID)); err != nil {
		return err
	}
	t.groupChanges(r, cr, p)
	// Time-ordered ids: a batch's new customers land side by side at the
	// end of the indexes keyed by id (customers_pkey, and the audit
	// events' entity and customer indexes) instead of dirtying a page of
	// each per row.
	cr.id = uuid.Must(uuid.NewV7())
	return nil
}

// prepareUpdate applies a row to the customer it matched; empty cells
// clear their fields.
func (t *custTable) prepareUpdate(_ context.Context, _ database.Tx, actor *tenant.Principal, r *row, cr *custRow) error {
	if cr.existing.ID == uuid.Nil {
		r.fail(t.matchCol, cr.key, "ambiguous", "several customers have this "+t.matchCol)
		return nil
	}
	for _, j := range cr.empty {
		if err := t.colOf[j].Import(&cr.row, nil); err != nil {
			r.fail(t.colOf[j].Header, "", "invalid", err.Error())
		}
	}
	p := cr.row.Customer
	cr.id = cr.existing.ID
	cr.rec = customer.RecordOf(*cr.existing)
	if err := t.failErr(r, cr, p.Apply(&cr.rec, t.env)); err != nil {
		return err
	}
	if !sameUUID(cr.rec.SalesRepID, cr.existing.SalesRepID) {
		if err := t.failErr(r, cr, customer.CheckRepRule(actor, false, cr.rec.SalesRepID)); err != nil {
			return err
		}
	}
	t.groupChanges(r, cr, p)
	return nil
}

func sameUUID(a, b *uuid.UUID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// groupChanges records the groups a row sets (resolved to ids) and the
// categories it leaves.
func (t *custTable) groupChanges(r *row, cr *custRow, p customer.Patch) {
	for cat, code := range p.Groups {
		if code == nil {
			cr.leave = append(cr.leave, cat)
			continue
		}
		id, ok := t.groupIDs[cat+"\x00"+*code]
		if !ok {
			r.fail("group."+cat, *code, "unknown_reference", "no group of this category has this code")
			continue
		}
		if cr.groups == nil {
			cr.groups = map[string]uuid.UUID{}
		}
		cr.groups[cat] = id
	}
}

// groupsOf drops from the updates' group changes those the customers
// already have.
func (t *custTable) groupsOf(ctx context.Context, tx database.Tx, updates []*row) error {
	var ids []uuid.UUID
	for _, r := range updates {
		cr := r.val.(*custRow)
		if len(cr.groups) > 0 || len(cr.leave) > 0 {
			ids = append(ids, cr.id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	members, err := dbsqlc.New().ImportGroupMembers(ctx, tx, dbsqlc.ImportGroupMembersParams{TenantID: tx.TenantID(), CustomerIds: ids})
	if err != nil {
		return fmt.Errorf("read group memberships: %w", err)
	}
	have := map[uuid.UUID]map[string]uuid.UUID{}
	for _, m := range members {
		if have[m.CustomerID] == nil {
			have[m.CustomerID] = map[string]uuid.UUID{}
		}
		have[m.CustomerID][m.Category] = m.GroupID
	}
	for _, r := range updates {
		cr := r.val.(*custRow)
		for cat, g := range cr.groups {
			if have[cr.id][cat] == g {
				delete(cr.groups, cat)
			}
		}
		leave := cr.leave[:0]
		for _, cat := range cr.leave {
			if _, in := have[cr.id][cat]; in {
				leave = append(leave, cat)
			}
		}
		cr.leave = leave
	}
	return nil
}

// stageFields are the customer fields, with their place in
// dbsqlc.CustomerInsertParams: the staging table's columns after id and
// version.
var stageFields = func() []stageField {
	typ := reflect.TypeOf(dbsqlc.CustomerInsertParams{})
	var out []stageField
	for _, f := range fieldspec.Customer {
		sf, ok := typ.FieldByName(f.GoName)
		if !ok {
			panic("importer: dbsqlc.CustomerInsertParams has no field " + f.GoName)
		}
		out = append(out, stageField{name: f.Name, column: f.Column, index: sf.Index})
	}
	sf, _ := typ.FieldByName("Custom")
	return append(out, stageField{name: "custom", column: "custom", index: sf.Index})
}()

type stageField struct {
	name, column string
	index        []int
}

// values returns the record's stored values in stageFields order.
func values(tenantID, id uuid.UUID, rec customer.Record) []any {
	v := reflect.ValueOf(rec.InsertParams(tenantID, id))
	out := make([]any, len(stageFields))
	for i, f := range stageFields {
		out[i] = v.FieldByIndex(f.index).Interface()
	}
	return out
}

// shown is a stored value as an audit record shows it (nil for none).
func shown(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		v = rv.Elem().Interface()
	}
	switch x := v.(type) {
	case decimal.Decimal:
		return x.String()
	case time.Time:
		return x.Format(time.DateOnly)
	case json.RawMessage:
		var m any
		_ = json.Unmarshal(x, &m)
		return m
	}
	return v
}

// changes are the fields that differ between two stored value lists.
func changes(before, after []any) map[string]audit.Change {
	out := map[string]audit.Change{}
	for i, f := range stageFields {
		var b any
		if before != nil {
			b = shown(before[i])
		}
		a := shown(after[i])
		if !sameShown(b, a) {
			out[f.name] = audit.Change{From: b, To: a}
		}
	}
	return out
}

// sameShown compares two shown values: plain values directly, the
// custom fields' objects by their JSON.
func sameShown(a, b any) bool {
	switch a.(type) {
	case nil, string, int32, int64, bool, uuid.UUID:
		return a == b
	}
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	return string(aj) == string(bj)
}

// unchanged reports whether applying the row leaves its customer as it is.
func (t *custTable) unchanged(cr *custRow) bool {
	if len(cr.groups) > 0 || len(cr.leave) > 0 || cr.addressesChanged() {
		return false
	}
	before := values(uuid.Nil, cr.id, customer.RecordOf(*cr.existing))
	after := values(uuid.Nil, cr.id, cr.rec)
	return len(changes(before, after)) == 0
}
