package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/location"
	"github.com/customerhub/customerhub/internal/tenant"
)

// The staging statements, built once from the field specification (its
// column names are constants of the program, never input): a temporary
// table shaped like the customers' writable columns, then one INSERT and
// one UPDATE per batch.
var (
	stageColumns = func() []string {
		cols := []string{"id", "version"}
		for _, f := range stageFields {
			cols = append(cols, f.column)
		}
		return cols
	}()
	fieldList = func() string {
		var names []string
		for _, f := range stageFields {
			names = append(names, pgx.Identifier{f.column}.Sanitize())
		}
		return strings.Join(names, ", ")
	}()
	// stageCustomers is the staging table: each field's column typed after
	// its Go type in dbsqlc.CustomerInsertParams (what sqlc made of the
	// customers column).
	stageCustomers = func() string {
		defs := []string{"id uuid NOT NULL", "version bigint"}
		typ := reflect.TypeOf(dbsqlc.CustomerInsertParams{})
		for _, f := range stageFields {
			defs = append(defs, pgx.Identifier{f.column}.Sanitize()+" "+sqlType(typ.FieldByIndex(f.index).Type))
		}
		return "CREATE TEMP TABLE import_stage_customers (" + strings.Join(defs, ", ") + ") ON COMMIT DROP"
	}()
	// insertCustomers adds the new customers; a code taken meanwhile (or by
	// a customer the importer cannot see) inserts nothing, and RETURNING
	// tells which were. Reach is the customer itself and its sales rep, as
	// CustomerInsert computes it.
	insertCustomers = `INSERT INTO customers (tenant_id, id, ` + fieldList + `, reach)
		SELECT $1::uuid, s.id, ` + prefixed("s.") + `, reach_norm(ARRAY[s.id, s.sales_rep_id])
		FROM import_stage_customers s WHERE s.version IS NULL
		ON CONFLICT ON CONSTRAINT customers_code_key DO NOTHING
		RETURNING id`
	// updateCustomers writes the changed customers still at the version
	// read, except those whose code changes ($2), which updateRecoded
	// writes one by one: a code taken by another customer (one the
	// importer may not even see) fails that row alone.
	updateCustomers = `UPDATE customers c SET ` + assignments() + `, version = c.version + 1, updated_at = now()
		FROM import_stage_customers s
		WHERE c.tenant_id = $1::uuid AND c.id = s.id AND s.version IS NOT NULL AND c.version = s.version
		  AND NOT (s.id = ANY ($2::uuid[]))
		RETURNING c.id`
	updateRecoded = `UPDATE customers c SET ` + assignments() + `, version = c.version + 1, updated_at = now()
		FROM import_stage_customers s
		WHERE c.tenant_id = $1::uuid AND c.id = s.id AND s.version IS NOT NULL AND c.version = s.version AND s.id = $2::uuid
		RETURNING c.id`
)

// sqlType is the PostgreSQL type of a staged Go type.
func sqlType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeOf(uuid.UUID{}):
		return "uuid"
	case reflect.TypeOf(decimal.Decimal{}):
		return "numeric"
	case reflect.TypeOf(time.Time{}):
		return "date"
	case reflect.TypeOf(json.RawMessage{}):
		return "jsonb"
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Int32:
		return "integer"
	case reflect.Int64:
		return "bigint"
	case reflect.Bool:
		return "boolean"
	}
	panic("importer: no staging type for " + t.String())
}

func prefixed(p string) string {
	var names []string
	for _, f := range stageFields {
		names = append(names, p+pgx.Identifier{f.column}.Sanitize())
	}
	return strings.Join(names, ", ")
}

func assignments() string {
	var sets []string
	for _, f := range stageFields {
		c := pgx.Identifier{f.column}.Sanitize()
		sets = append(sets, c+" = s."+c)
	}
	return strings.Join(sets, ", ")
}

// write stores a batch: new customers and changed ones through the
// staging table, then their group memberships, reach and audit events.
func (t *custTable) write(ctx context.Context, tx database.Tx, actor *tenant.Principal, creates, updates []*row) error {
	if len(creates) == 0 && len(updates) == 0 {
		return nil
	}
	q := dbsqlc.New()
	for _, r := range creates {
		cr := r.val.(*custRow)
		if cr.rec.Code == "" {
			n, err := q.CounterNext(ctx, tx, dbsqlc.CounterNextParams{TenantID: tx.TenantID(), Name: "customer_code"})
			if err != nil {
				return fmt.Errorf("next customer code: %w", err)
			}
			cr.rec.Code = fmt.Sprintf("C%06d", n)
		}
	}
	if _, err := tx.Exec(ctx, stageCustomers); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	var stage [][]any
	var before = map[uuid.UUID][]any{}
	var after = map[uuid.UUID][]any{}
	for _, r := range creates {
		cr := r.val.(*custRow)
		v := values(tx.TenantID(), cr.id, cr.rec)
		after[cr.id] = v
		stage = append(stage, append([]any{cr.id, nil}, v...))
	}
	for _, r := range updates {
		cr := r.val.(*custRow)
		v := values(tx.TenantID(), cr.id, cr.rec)
		after[cr.id] = v
		before[cr.id] = values(tx.TenantID(), cr.id, customer.RecordOf(*cr.existing))
		stage = append(stage, append([]any{cr.id, cr.existing.Version}, v...))
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_stage_customers"}, stageColumns, pgx.CopyFromRows(stage)); err != nil {
		return fmt.Errorf("stage customers: %w", err)
	}
	inserted, err := ids(ctx, tx, insertCustomers)
	if err != nil {
		return fmt.Errorf("insert customers: %w", err)
	}
	recoded := []uuid.UUID{} // never NULL: NOT (id = ANY (NULL)) keeps no row
	for _, r := range updates {
		cr := r.val.(*custRow)
		if cr.rec.Code != cr.existing.Code {
			recoded = append(recoded, cr.id)
		}
	}
	updated, err := ids(ctx, tx, updateCustomers, recoded)
	if err != nil {
		return fmt.Errorf("update customers: %w", err)
	}
	taken := map[uuid.UUID]bool{}
	for _, id := range recoded {
		err := tx.Savepoint(ctx, func(ctx context.Context, tx database.Tx) error {
			got, err := ids(ctx, tx, updateRecoded, id)
			for k := range got {
				updated[k] = true
			}
			return err
		})
		switch {
		case database.IsUniqueViolation(err, "customers_code_key"):
			taken[id] = true
		case err != nil:
			return fmt.Errorf("update customer: %w", err)
		}
	}
	var written []*row
	for _, r := range creates {
		if inserted[r.val.(*custRow).id] {
			written = append(written, r)
		} else {
			r.outcome = outcomeFailed
			r.fail("code", r.val.(*custRow).rec.Code, "code_taken", "another customer has this code")
		}
	}
	for _, r := range updates {
		cr := r.val.(*custRow)
		switch {
		case updated[cr.id]:
			written = append(written, r)
		case taken[cr.id]:
			r.outcome = outcomeFailed
			r.fail("code", cr.rec.Code, "code_taken", "another customer has this code")
		default:
			r.outcome = outcomeFailed
			r.fail(t.matchCol, r.val.(*custRow).key, "changed", "the customer changed while the import ran; import the row again")
		}
	}
	if err := t.writeGroups(ctx, tx, written); err != nil {
		return err
	}
	if err := t.writeAddresses(ctx, tx, actor, written); err != nil {
		return err
	}
	// Reach: who sees the changed customers now, when their sales rep
	// changed (a new customer's was computed by the insert, as
	// CustomerInsert does).
	var reach []uuid.UUID
	for _, r := range written {
		cr := r.val.(*custRow)
		if cr.existing != nil && !sameUUID(cr.existing.SalesRepID, cr.rec.SalesRepID) {
			reach = append(reach, cr.id)
		}
	}
	if len(reach) > 0 {
		if err := customer.RefreshReach(ctx, tx, reach...); err != nil {
			return err
		}
	}
	var cIDs, uIDs []uuid.UUID
	var cChanges, uChanges []map[string]audit.Change
	for _, r := range written {
		cr := r.val.(*custRow)
		ch := changes(before[cr.id], after[cr.id])
		for cat, g := range cr.groups {
			ch["groups."+cat] = audit.Change{To: g}
		}
		for _, cat := range cr.leave {
			ch["groups."+cat] = audit.Change{}
		}
		for _, a := range cr.addrs {
			if a.changed {
				var from any
				if a.existing != nil {
					from = addressText(locationRecord(*a.existing))
				}
				ch[a.kind+"_address"] = audit.Change{From: from, To: addressText(a.after)}
			}
		}
		if cr.existing == nil {
			cIDs, cChanges = append(cIDs, cr.id), append(cChanges, ch)
		} else {
			uIDs, uChanges = append(uIDs, cr.id), append(uChanges, ch)
		}
	}
	if err := audit.RecordMany(ctx, tx, audit.EntityCustomer, audit.ActionCreate, cIDs, cIDs, cChanges); err != nil {
		return err
	}
	return audit.RecordMany(ctx, tx, audit.EntityCustomer, audit.ActionUpdate, uIDs, uIDs, uChanges)
}

// addressText is an address on one line, for the audit trail.
func addressText(r location.Record) string {
	parts := []string{r.Line1}
	if r.Line2 != nil {
		parts = append(parts, *r.Line2)
	}
	parts = append(parts, r.City)
	if r.Region != nil {
		parts = append(parts, *r.Region)
	}
	if r.PostalCode != nil {
		parts = append(parts, *r.PostalCode)
	}
	return strings.Join(append(parts, r.Country), ", ")
}

// ids runs a statement returning ids and collects them.
func ids(ctx context.Context, tx database.Tx, sql string, args ...any) (map[uuid.UUID]bool, error) {
	rows, err := tx.Query(ctx, sql, append([]any{tx.TenantID()}, args...)...)
	if err != nil {
		return nil, err
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]bool, len(got))
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

// writeGroups sets the written customers' group memberships: one
// statement per group joined and per category left.
func (t *custTable) writeGroups(ctx context.Context, tx database.Tx, written []*row) error {
	q := dbsqlc.New()
	type target struct {
		cat   string
		group uuid.UUID
	}
	joins := map[target][]uuid.UUID{}
	leaves := map[string][]uuid.UUID{}
	for _, r := range written {
		cr := r.val.(*custRow)
		for cat, g := range cr.groups {
			joins[target{cat, g}] = append(joins[target{cat, g}], cr.id)
		}
		for _, cat := range cr.leave {
			leaves[cat] = append(leaves[cat], cr.id)
		}
	}
	for tg, ids := range joins {
		if err := q.GroupMembersBulkSet(ctx, tx, dbsqlc.GroupMembersBulkSetParams{TenantID: tx.TenantID(), CustomerIds: ids,
			Category: tg.cat, GroupID: tg.group}); err != nil {
			return fmt.Errorf("join group: %w", err)
		}
	}
	for cat, ids := range leaves {
		if err := q.GroupMembersBulkRemove(ctx, tx, dbsqlc.GroupMembersBulkRemoveParams{TenantID: tx.TenantID(), CustomerIds: ids,
			Category: cat}); err != nil {
			return fmt.Errorf("leave group: %w", err)
		}
	}
	return nil
}
