package importer

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/customer/fieldspec"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/validation"
)

// maxTenantRows bounds the tenant lists LoadTenant reads (categories,
// groups, payment terms, price lists): small tables, read whole.
const maxTenantRows = 100_000

// LoadTenant reads what CustomerColumns and a Resolver need besides env
// (settings.Service.Env): group categories, groups, payment terms and
// price lists, one query each.
func LoadTenant(ctx context.Context, tx database.Tx, env settings.Env) (Tenant, error) {
	q := dbsqlc.New()
	t := Tenant{Env: env}
	cats, err := q.GroupCategoryList(ctx, tx, dbsqlc.GroupCategoryListParams{TenantID: tx.TenantID(), RowLimit: maxTenantRows})
	if err != nil {
		return t, fmt.Errorf("list group categories: %w", err)
	}
	for _, c := range cats {
		t.Categories = append(t.Categories, c.GroupCategory)
	}
	if t.Groups, err = q.GroupCodeList(ctx, tx, dbsqlc.GroupCodeListParams{TenantID: tx.TenantID(), RowLimit: maxTenantRows}); err != nil {
		return t, fmt.Errorf("list groups: %w", err)
	}
	if t.PaymentTerms, err = q.PaymentTermsList(ctx, tx, dbsqlc.PaymentTermsListParams{TenantID: tx.TenantID(), RowLimit: maxTenantRows}); err != nil {
		return t, fmt.Errorf("list payment terms: %w", err)
	}
	if t.PriceLists, err = q.PriceListList(ctx, tx, dbsqlc.PriceListListParams{TenantID: tx.TenantID(), RowLimit: maxTenantRows}); err != nil {
		return t, fmt.Errorf("list price lists: %w", err)
	}
	return t, nil
}

// ---- import: resolving references ------------------------------------------

// Resolver turns rows' references into ids: groups, price lists and
// payment terms from the tenant's lists (loaded once per file), sales reps
// by e-mail with one query per batch (LoadSalesReps). Codes and names
// match ignoring case when no exact match exists.
type Resolver struct {
	q            *dbsqlc.Queries
	groupHeaders map[string]string // category -> column header
	groups       map[string]*lookup
	priceLists   *lookup
	terms        *lookup
	reps         map[string]rep // lower-case e-mail
}

type rep struct {
	id     uuid.UUID
	active bool
}

// lookup finds an id by exact text, else by the text ignoring case.
type lookup struct {
	exact map[string]uuid.UUID
	fold  map[string]uuid.UUID
	code  map[uuid.UUID]string // canonical text by id
}

func newLookup() *lookup {
	return &lookup{exact: map[string]uuid.UUID{}, fold: map[string]uuid.UUID{}, code: map[uuid.UUID]string{}}
}

func (l *lookup) add(text string, id uuid.UUID) {
	if _, ok := l.exact[text]; !ok {
		l.exact[text] = id
	}
	if _, ok := l.fold[strings.ToLower(text)]; !ok {
		l.fold[strings.ToLower(text)] = id
	}
	if _, ok := l.code[id]; !ok {
		l.code[id] = text
	}
}

func (l *lookup) find(text string) (uuid.UUID, bool) {
	if id, ok := l.exact[text]; ok {
		return id, true
	}
	id, ok := l.fold[strings.ToLower(text)]
	return id, ok
}

// NewResolver returns a Resolver for the tenant's lists.
func NewResolver(t Tenant) *Resolver {
	r := &Resolver{q: dbsqlc.New(), groupHeaders: map[string]string{}, groups: map[string]*lookup{},
		priceLists: newLookup(), terms: newLookup(), reps: map[string]rep{}}
	for _, c := range groupColumns(t) {
		r.groupHeaders[strings.TrimPrefix(c.Field, "groups.")] = c.Header
	}
	for _, g := range t.Groups {
		if r.groups[g.Category] == nil {
			r.groups[g.Category] = newLookup()
		}
		r.groups[g.Category].add(g.Code, g.ID)
	}
	for _, p := range t.PriceLists {
		r.priceLists.add(p.Code, p.ID)
	}
	for _, p := range t.PaymentTerms { // codes first: a code wins over another's name
		r.terms.add(p.Code, p.ID)
	}
	for _, p := range t.PaymentTerms {
		r.terms.add(p.Name, p.ID)
	}
	return r
}

// AddPaymentTerms makes terms an import created (from a value that reads
// as terms, such as "Net 30") resolvable by code and name.
func (r *Resolver) AddPaymentTerms(p dbsqlc.PaymentTerm) {
	r.terms.add(p.Code, p.ID)
	r.terms.add(p.Name, p.ID)
}

// UnknownPaymentTerms lists the distinct payment terms the rows name that
// resolve to nothing, as written: the values an import may create terms
// for before it resolves the rows.
func (r *Resolver) UnknownPaymentTerms(rows []Row) []string {
	var out []string
	for i := range rows {
		s := rows[i].Refs.PaymentTerms
		if s.Set && s.Value != nil {
			if _, ok := r.terms.find(*s.Value); !ok && !slices.Contains(out, *s.Value) {
				out = append(out, *s.Value)
			}
		}
	}
	return out
}

// LoadSalesReps reads the users the rows name as sales reps and the
// resolver does not know yet, with one query.
func (r *Resolver) LoadSalesReps(ctx context.Context, tx database.Tx, rows []Row) error {
	var emails []string
	for i := range rows {
		s := rows[i].Refs.SalesRepEmail
		if !s.Set || s.Value == nil {
			continue
		}
		e := strings.ToLower(*s.Value)
		if _, known := r.reps[e]; !known && !slices.Contains(emails, e) {
			emails = append(emails, e)
		}
	}
	if len(emails) == 0 {
		return nil
	}
	users, err := r.q.UserIDsByEmails(ctx, tx, dbsqlc.UserIDsByEmailsParams{TenantID: tx.TenantID(), Emails: emails})
	if err != nil {
		return fmt.Errorf("look up sales reps: %w", err)
	}
	for _, u := range users {
		r.reps[strings.ToLower(u.Email)] = rep{id: u.ID, active: u.Status == "active"}
	}
	return nil
}

// Resolve sets the ids of the row's references into its customer patch
// (and its groups, by their canonical codes, into Patch.Groups) and
// reports each reference that names nothing, by its column's header.
// Sales reps must have been loaded (LoadSalesReps).
func (r *Resolver) Resolve(row *Row) validation.Errors {
	var errs validation.Errors
	header := func(name string) string {
		f, _ := fieldspec.ByName(name)
		return f.Header()
	}
	if s := row.Refs.SalesRepEmail; s.Set {
		row.Customer.SalesRepID = patch.Field[uuid.UUID]{Set: true}
		if s.Value != nil {
			u, ok := r.reps[strings.ToLower(*s.Value)]
			switch {
			case !ok:
				errs.Add(header("sales_rep_id"), "unknown_reference", "no user has this e-mail address")
			case !u.active:
				errs.Add(header("sales_rep_id"), "unknown_reference", "this user is not active")
			default:
				row.Customer.SalesRepID.Value = &u.id
			}
		}
	}
	resolve := func(s patch.Field[string], l *lookup, dst *patch.Field[uuid.UUID], field, what string) {
		if !s.Set {
			return
		}
		*dst = patch.Field[uuid.UUID]{Set: true}
		if s.Value == nil {
			return
		}
		if id, ok := l.find(*s.Value); ok {
			dst.Value = &id
			return
		}
		errs.Add(header(field), "unknown_reference", what)
	}
	resolve(row.Refs.PriceList, r.priceLists, &row.Customer.PriceListID, "price_list_id", "no price list has this code")
	resolve(row.Refs.PaymentTerms, r.terms, &row.Customer.PaymentTermsID, "payment_terms_id", "no payment terms have this code or name")
	for _, cat := range slices.Sorted(maps.Keys(row.Refs.Groups)) {
		code := row.Refs.Groups[cat]
		h := r.groupHeaders[cat]
		l := r.groups[cat]
		var id uuid.UUID
		ok := false
		if l != nil {
			id, ok = l.find(code)
		}
		if !ok {
			errs.Add(cmp.Or(h, "group."+cat), "unknown_reference", "no group of this category has this code")
			continue
		}
		if row.Customer.Groups == nil {
			row.Customer.Groups = map[string]*string{}
		}
		canon := l.code[id]
		row.Customer.Groups[cat] = &canon
	}
	return errs
}

// ---- export: filling records in batches -------------------------------------

// ExportFiller fills export records batch by batch: price list and
// payment terms codes come from the tenant's lists (read once by
// LoadTenant), and each batch costs two queries, whatever its size: the
// default locations of its customers (LocationDefaultsForCustomers) and
// the e-mails of its sales reps not seen in an earlier batch
// (UserEmailsByIDs). Group memberships come with the customers
// (customer.Service.List reads them for a page in one query).
type ExportFiller struct {
	q          *dbsqlc.Queries
	priceLists map[uuid.UUID]string
	terms      map[uuid.UUID]string
	emails     map[uuid.UUID]string
}

// NewExportFiller returns an ExportFiller for the tenant.
func NewExportFiller(t Tenant) *ExportFiller {
	f := &ExportFiller{q: dbsqlc.New(), priceLists: map[uuid.UUID]string{}, terms: map[uuid.UUID]string{}, emails: map[uuid.UUID]string{}}
	for _, p := range t.PriceLists {
		f.priceLists[p.ID] = p.Code
	}
	for _, p := range t.PaymentTerms {
		f.terms[p.ID] = p.Code
	}
	return f
}

// Fill returns the export records of a batch of customers, in order.
func (f *ExportFiller) Fill(ctx context.Context, tx database.Tx, details []customer.Detail) ([]ExportRecord, error) {
	ids := make([]uuid.UUID, len(details))
	var reps []uuid.UUID
	for i, d := range details {
		ids[i] = d.Customer.ID
		if r := d.Customer.SalesRepID; r != nil {
			if _, known := f.emails[*r]; !known && !slices.Contains(reps, *r) {
				reps = append(reps, *r)
			}
		}
	}
	locs, err := f.q.LocationDefaultsForCustomers(ctx, tx, dbsqlc.LocationDefaultsForCustomersParams{TenantID: tx.TenantID(), CustomerIds: ids})
	if err != nil {
		return nil, fmt.Errorf("read default locations: %w", err)
	}
	billing := map[uuid.UUID]*dbsqlc.CustomerLocation{}
	shipping := map[uuid.UUID]*dbsqlc.CustomerLocation{}
	for i := range locs {
		if locs[i].IsDefaultBilling {
			billing[locs[i].CustomerID] = &locs[i]
		}
		if locs[i].IsDefaultShipping {
			shipping[locs[i].CustomerID] = &locs[i]
		}
	}
	if len(reps) > 0 {
		users, err := f.q.UserEmailsByIDs(ctx, tx, dbsqlc.UserEmailsByIDsParams{TenantID: tx.TenantID(), Ids: reps})
		if err != nil {
			return nil, fmt.Errorf("read sales reps' e-mails: %w", err)
		}
		for _, u := range users {
			f.emails[u.ID] = u.Email
		}
	}
	out := make([]ExportRecord, len(details))
	for i, d := range details {
		c := d.Customer
		rec := ExportRecord{Detail: d, Billing: billing[c.ID], Shipping: shipping[c.ID]}
		if c.SalesRepID != nil {
			rec.SalesRepEmail = known(f.emails, *c.SalesRepID)
		}
		if c.PriceListID != nil {
			rec.PriceListCode = known(f.priceLists, *c.PriceListID)
		}
		if c.PaymentTermsID != nil {
			rec.PaymentTermsCode = known(f.terms, *c.PaymentTermsID)
		}
		out[i] = rec
	}
	return out, nil
}

func known(m map[uuid.UUID]string, id uuid.UUID) *string {
	if s, ok := m[id]; ok {
		return &s
	}
	return nil
}
