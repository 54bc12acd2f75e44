package customer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// SavedView is a user's named list view: which columns to show, which
// filters to apply and how to sort (the seeds' "customize view columns").
type SavedView struct {
	Name    string
	Columns []string
	Filters map[string]string
	Sort    string
}

var viewNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$`)

// Validate checks the view: known columns, filters and sort that the list
// itself would accept (errors name filters.<name>).
func (v *SavedView) Validate() error {
	var errs validation.Errors
	if !viewNameRE.MatchString(v.Name) {
		errs.Add("name", "invalid_name", "must be 1 to 64 letters, digits, spaces or _ . -")
	}
	for i, c := range v.Columns {
		if !IsField(c) {
			errs.Add(fmt.Sprintf("columns.%d", i), "unknown_column", "unknown customer field "+fmt.Sprintf("%q", c))
		}
	}
	if v.Sort == "" {
		v.Sort = "name"
	}
	values := map[string]string{"sort": v.Sort}
	for k, val := range v.Filters {
		if k == "sort" {
			errs.Add("filters.sort", "unknown_filter", "give the sort in the view's sort field")
			continue
		}
		if !isFilterName(k) {
			errs.Add("filters."+k, "unknown_filter", "unknown list filter")
			continue
		}
		values[k] = val
	}
	_, lerrs := ParseList(values)
	for _, e := range lerrs {
		if e.Field != "sort" {
			e.Field = "filters." + e.Field
		}
		errs = append(errs, e)
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs.Err()
}

func isFilterName(k string) bool {
	for _, f := range ListFilters {
		if f == k {
			return true
		}
	}
	return len(k) > len("group.") && k[:len("group.")] == "group." || len(k) > len("custom.") && k[:len("custom.")] == "custom."
}

// PutView creates or replaces one of the actor's views; created reports a
// new one.
func (s *Service) PutView(ctx context.Context, tx database.Tx, actor *tenant.Principal, v SavedView) (dbsqlc.SavedView, bool, error) {
	filters, err := json.Marshal(v.Filters)
	if err != nil {
		return dbsqlc.SavedView{}, false, err
	}
	if v.Columns == nil {
		v.Columns = []string{}
	}
	row, err := s.q.ViewUpsert(ctx, tx, dbsqlc.ViewUpsertParams{
		TenantID: tx.TenantID(), UserID: actor.UserID, Name: v.Name, Columns: v.Columns, Filters: filters, Sort: v.Sort,
	})
	if err != nil {
		return dbsqlc.SavedView{}, false, fmt.Errorf("save view: %w", err)
	}
	return dbsqlc.SavedView{TenantID: row.TenantID, UserID: row.UserID, Name: row.Name, Columns: row.Columns,
		Filters: row.Filters, Sort: row.Sort, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt}, row.Inserted, nil
}

// View returns one of the actor's views.
func (s *Service) View(ctx context.Context, tx database.Tx, actor *tenant.Principal, name string) (dbsqlc.SavedView, error) {
	v, err := s.q.ViewGet(ctx, tx, dbsqlc.ViewGetParams{TenantID: tx.TenantID(), UserID: actor.UserID, Name: name})
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrViewNotFound
	}
	if err != nil {
		return v, fmt.Errorf("get view: %w", err)
	}
	return v, nil
}

// Views lists the actor's views by name.
func (s *Service) Views(ctx context.Context, tx database.Tx, actor *tenant.Principal) ([]dbsqlc.SavedView, error) {
	vs, err := s.q.ViewList(ctx, tx, dbsqlc.ViewListParams{TenantID: tx.TenantID(), UserID: actor.UserID})
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	return vs, nil
}

// DeleteView removes one of the actor's views.
func (s *Service) DeleteView(ctx context.Context, tx database.Tx, actor *tenant.Principal, name string) error {
	n, err := s.q.ViewDelete(ctx, tx, dbsqlc.ViewDeleteParams{TenantID: tx.TenantID(), UserID: actor.UserID, Name: name})
	if err != nil {
		return fmt.Errorf("delete view: %w", err)
	}
	if n == 0 {
		return ErrViewNotFound
	}
	return nil
}

// ViewFilters decodes a stored view's filters.
func ViewFilters(v dbsqlc.SavedView) map[string]string {
	m := map[string]string{}
	_ = json.Unmarshal(v.Filters, &m)
	return m
}
