package customer

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
)

// ListRequest is a parsed customer list query: the filters and sort of
// GET /v1/customers, which the exports share, the columns asked for
// (fields=) and the count asked for (count=).
type ListRequest struct {
	Params ListParams
	Fields []string
	Count  string
}

// ListQuery returns the query parameters GET /v1/customers accepts, for
// the routes that take the list's filters too.
func ListQuery() []httpapi.Param { return slices.Clone(listQuery) }

// ParseListRequest reads a list query, starting from a saved view when
// view= names one: the view's filters, sort and columns apply unless the
// query gives its own. Errors name the parameter.
func (s *Service) ParseListRequest(ctx context.Context, tx database.Tx, actor *tenant.Principal, values map[string]string) (ListRequest, error) {
	var lr ListRequest
	var viewColumns []string
	if name := values["view"]; name != "" {
		v, err := s.View(ctx, tx, actor, name)
		if errors.Is(err, ErrViewNotFound) {
			return lr, httpapi.BadRequest("view", "unknown_view", "you have no saved view with this name")
		}
		if err != nil {
			return lr, err
		}
		merged := ViewFilters(v)
		merged["sort"] = v.Sort
		for k, val := range values {
			merged[k] = val
		}
		values = merged
		viewColumns = v.Columns
	}
	params, errs := ParseList(values)
	if f := values["fields"]; f != "" {
		for _, name := range strings.Split(f, ",") {
			name = strings.TrimSpace(name)
			if !IsField(name) {
				errs.Add("fields", "unknown_field", "unknown customer field "+name)
				continue
			}
			lr.Fields = append(lr.Fields, name)
		}
	} else if len(viewColumns) > 0 {
		lr.Fields = viewColumns
	}
	if cnt := values["count"]; cnt != "" {
		errs.OneOf("count", cnt, "exact", "estimated")
		lr.Count = cnt
	}
	lr.Params = params
	return lr, errs.Err()
}

// CursorAfter returns the cursor of the page that follows customer c in a
// list sorted by sortBy: the exports read the whole list page by page.
func CursorAfter(sortBy string, c dbsqlc.Customer) *Cursor {
	cur := cursorFor(sortBy, rowKeys{
		id: c.ID, name: c.Name, code: c.Code, balance: c.Balance, totalOrderValue: c.TotalOrderValue,
		lastOrderAt: c.LastOrderAt, updatedAt: c.UpdatedAt, createdAt: c.CreatedAt,
	})
	return &cur
}

// ExportArgs returns CustomerExportPage's arguments for the whole of lp
// as actor sees it, in lp's sort, without page size and keyset (the
// caller pages). empty reports a list known to be empty without querying.
func (s *Service) ExportArgs(ctx context.Context, tx database.Tx, actor *tenant.Principal, env settings.Env, lp ListParams) (args dbsqlc.CustomerExportPageParams, empty bool, err error) {
	f, _, empty, err := s.filter(ctx, tx, actor, env, lp, nil)
	if err != nil || empty {
		return args, empty, err
	}
	args.Sort = lp.Sort
	f.setCustomerExportPage(&args)
	return args, false, nil
}
