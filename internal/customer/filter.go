package customer

//go:generate go run ./gen/filter

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// The customer list's filter is written once in SQL
// (queries/fragments/customer_filter.sql, copied into every query that
// selects the list's customers) and once in Go: filter below maps the
// list's parameters to its arguments (filterArgs, generated from the
// fragment into filter_gen.go with a method per query that copies them
// into that query's arguments). The list, its count, the exports and
// the bulk selection (bulk updates, SMS notices) all go through it.

// keyset is where a page of the list starts: after the row with this sort
// key and id (queries/fragments/customer_page.sql). The zero keyset is
// the first page.
type keyset struct {
	id   *uuid.UUID
	text *string
	num  *decimal.Decimal
	ts   *time.Time
}

// keyset returns the cursor's position as the keyset's arguments; a nil
// cursor is the first page.
func (c *Cursor) keyset() (keyset, error) {
	if c == nil {
		return keyset{}, nil
	}
	ks := keyset{id: &c.ID, text: c.Text, ts: c.Time}
	if c.Num != nil {
		d, err := decimal.NewFromString(*c.Num)
		if err != nil {
			return ks, validation.Errors{{Field: "cursor", Code: "invalid_cursor", Message: "not a cursor returned by this list"}}
		}
		ks.num = &d
	}
	return ks, nil
}

// SetExportPage sets CustomerExportPage's keyset to the rows after the
// cursor (all rows for a nil cursor).
func (c *Cursor) SetExportPage(p *dbsqlc.CustomerExportPageParams) error {
	ks, err := c.keyset()
	if err != nil {
		return err
	}
	p.AfterID, p.AfterText, p.AfterNum, p.AfterTs = ks.id, ks.text, ks.num, ks.ts
	return nil
}

// filter maps the list's filters (lp, as ParseList read them) to the
// filter's arguments as actor sees the customers: the scope repeats the
// visibility rule, the search becomes matching ids or a pattern. done
// reports a result known to be empty without querying (a search without
// matches, a portal user without a customer). page is the keyset of the
// one page asked for, or nil for the whole list (a count, an export, a
// selection); for a page of a search with no other filter, pageIDs is the
// page itself, in order, as the search function found it.
func (s *Service) filter(ctx context.Context, tx database.Tx, actor *tenant.Principal, env settings.Env, lp ListParams, page *keyset) (f filterArgs, pageIDs []uuid.UUID, done bool, err error) {
	f = filterArgs{TenantID: tx.TenantID(), Statuses: lp.Statuses,
		Type: lp.Type, Kind: lp.Kind, SalesRepID: lp.SalesRepID, PaymentTermsID: lp.PaymentTermsID,
		BillingStatus: lp.BillingStatus, Country: lp.Country, HasBalance: lp.HasBalance, HasCredit: lp.HasCredit,
		Overdue: lp.Overdue, Engaged: lp.Engaged, LastOrderFrom: lp.LastOrderFrom, LastOrderTo: lp.LastOrderTo,
		GroupFilters: []string{}}
	switch actor.Visibility {
	case tenant.VisibilityAssigned:
		uid := actor.UserID
		f.ScopeUserID = &uid
	case tenant.VisibilityPortal:
		if actor.CustomerID == nil {
			return f, nil, true, nil
		}
		f.ScopeCustomerID = actor.CustomerID
	}
	for category, code := range lp.Groups {
		f.GroupFilters = append(f.GroupFilters, category+":"+code)
	}
	if len(lp.Custom) > 0 {
		custom, errs := env.CustomFilter(lp.Custom)
		if err := errs.Err(); err != nil {
			return f, nil, false, err
		}
		f.Custom = custom
	}
	if lp.Q == nil {
		return f, nil, false, nil
	}
	pattern := "%" + escapeLike(strings.ToLower(*lp.Q)) + "%"
	switch {
	case page != nil && lp.onlySearch():
		// The commonest list: the page comes ordered from the search itself.
		ids, err := s.q.CustomerSearchPage(ctx, tx, dbsqlc.CustomerSearchPageParams{
			Pattern: pattern, Statuses: lp.Statuses, Sort: lp.Sort,
			AfterText: page.text, AfterNum: page.num, AfterTs: page.ts, AfterID: page.id, Max: lp.Limit,
		})
		if err != nil {
			return f, nil, false, fmt.Errorf("search customers: %w", err)
		}
		if len(ids) == 0 {
			return f, nil, true, nil
		}
		f.SearchIds = ids
		return f, ids, false, nil
	case lp.scanSearch:
		f.SearchLike = &pattern
		return f, nil, false, nil
	}
	limit := searchCap
	if actor.Visibility != tenant.VisibilityAll {
		limit = searchCapAssigned
	}
	ids, err := s.q.CustomerSearchIDs(ctx, tx, dbsqlc.CustomerSearchIDsParams{Pattern: pattern, Max: int32(limit)})
	if err != nil {
		return f, nil, false, fmt.Errorf("search customers: %w", err)
	}
	switch {
	case len(ids) == 0:
		return f, nil, true, nil
	case len(ids) < limit:
		f.SearchIds = ids
	default:
		f.SearchLike = &pattern
	}
	return f, nil, false, nil
}
