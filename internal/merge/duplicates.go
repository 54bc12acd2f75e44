package merge

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Reasons two customers are likely duplicates, in the order the list shows
// their groups. Keys are compared normalized: tax numbers without spaces
// or punctuation and in upper case, e-mails in lower case, phones as their
// digits, names by customer_name_key (lower case, no punctuation, no
// legal-form words such as Inc, Ltd or GmbH; migration 000004).
const (
	ReasonTaxNumber = "tax_number"
	ReasonEmail     = "email"
	ReasonPhone     = "phone"
	ReasonName      = "name"
)

// Reasons lists the reasons in list order.
var Reasons = []string{ReasonTaxNumber, ReasonEmail, ReasonPhone, ReasonName}

// MaxGroupCustomers caps the customers shown per group; Group.Count counts
// them all.
const MaxGroupCustomers = 20

// Group is a set of customers sharing one normalized key.
type Group struct {
	Reason    string
	Key       string
	Count     int64
	Customers []dbsqlc.Customer
}

// DuplicateCursor is the position after the last group of a page.
type DuplicateCursor struct {
	Reason string `json:"r"`
	Key    string `json:"k"`
}

// DuplicateParams selects and pages the duplicate groups.
type DuplicateParams struct {
	// Reasons limits the list to these reasons (all when empty).
	Reasons []string
	After   *DuplicateCursor
	Limit   int32
}

// dupRow is a row of any of the Duplicate* queries.
type dupRow struct {
	key     string
	members int64
	ids     []uuid.UUID
}

// Duplicates returns a page of groups of likely duplicates among the
// customers the actor can see, and the cursor of the next page (nil at the
// end). Each reason's groups come from one walk of its index in key order
// (see migration 000004); a page reads at most one walk per reason.
func (s *Service) Duplicates(ctx context.Context, tx database.Tx, actor *tenant.Principal, dp DuplicateParams) ([]Group, *DuplicateCursor, error) {
	var scope []uuid.UUID
	switch actor.Visibility {
	case tenant.VisibilityPortal:
		return nil, nil, nil // one customer cannot be a duplicate of itself
	case tenant.VisibilityAssigned:
		ids, err := s.q.DuplicateScopeIDs(ctx, tx, dbsqlc.DuplicateScopeIDsParams{TenantID: tx.TenantID(), UserID: actor.UserID})
		if err != nil {
			return nil, nil, fmt.Errorf("read visible customers: %w", err)
		}
		if len(ids) < 2 {
			return nil, nil, nil
		}
		scope = ids
	}
	reasons := Reasons
	if len(dp.Reasons) > 0 {
		reasons = slices.DeleteFunc(slices.Clone(Reasons), func(r string) bool { return !slices.Contains(dp.Reasons, r) })
	}
	start, after := 0, (*string)(nil)
	if dp.After != nil {
		start = slices.Index(reasons, dp.After.Reason)
		if start < 0 {
			return nil, nil, nil
		}
		after = &dp.After.Key
	}
	want := int(dp.Limit) + 1
	var groups []Group
	for i := start; i < len(reasons) && len(groups) < want; i++ {
		if i > start {
			after = nil
		}
		rows, err := s.duplicateRows(ctx, tx, reasons[i], scope, after, int32(want-len(groups)))
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rows {
			groups = append(groups, Group{Reason: reasons[i], Key: r.key, Count: r.members, Customers: make([]dbsqlc.Customer, 0, len(r.ids))})
		}
		if err := s.fillGroups(ctx, tx, groups[len(groups)-len(rows):], rows); err != nil {
			return nil, nil, err
		}
	}
	var next *DuplicateCursor
	if len(groups) > int(dp.Limit) {
		groups = groups[:dp.Limit]
		last := groups[len(groups)-1]
		next = &DuplicateCursor{Reason: last.Reason, Key: last.Key}
	}
	return groups, next, nil
}

// fillGroups reads the customers of groups (rows in step), through the
// customers policy, in the order of each group's ids.
func (s *Service) fillGroups(ctx context.Context, tx database.Tx, groups []Group, rows []dupRow) error {
	var ids []uuid.UUID
	for _, r := range rows {
		ids = append(ids, r.ids...)
	}
	if len(ids) == 0 {
		return nil
	}
	cs, err := s.q.CustomerGetByIDs(ctx, tx, dbsqlc.CustomerGetByIDsParams{TenantID: tx.TenantID(), Ids: ids})
	if err != nil {
		return fmt.Errorf("read duplicate customers: %w", err)
	}
	byID := make(map[uuid.UUID]dbsqlc.Customer, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
	}
	for i, r := range rows {
		for _, id := range r.ids {
			if c, ok := byID[id]; ok {
				groups[i].Customers = append(groups[i].Customers, c)
			}
		}
	}
	return nil
}

// duplicateRows runs the query of one reason.
func (s *Service) duplicateRows(ctx context.Context, tx database.Tx, reason string, scope []uuid.UUID, after *string, limit int32) ([]dupRow, error) {
	t := tx.TenantID()
	var out []dupRow
	var err error
	switch reason {
	case ReasonTaxNumber:
		var rows []dbsqlc.DuplicateTaxNumbersRow
		rows, err = s.q.DuplicateTaxNumbers(ctx, tx, dbsqlc.DuplicateTaxNumbersParams{TenantID: t, ScopeIds: scope, AfterKey: after, RowLimit: limit, MaxMembers: MaxGroupCustomers})
		for _, r := range rows {
			out = append(out, dupRow{r.Key, r.Members, r.Ids})
		}
	case ReasonEmail:
		var rows []dbsqlc.DuplicateEmailsRow
		rows, err = s.q.DuplicateEmails(ctx, tx, dbsqlc.DuplicateEmailsParams{TenantID: t, ScopeIds: scope, AfterKey: after, RowLimit: limit, MaxMembers: MaxGroupCustomers})
		for _, r := range rows {
			out = append(out, dupRow{r.Key, r.Members, r.Ids})
		}
	case ReasonPhone:
		var rows []dbsqlc.DuplicatePhonesRow
		rows, err = s.q.DuplicatePhones(ctx, tx, dbsqlc.DuplicatePhonesParams{TenantID: t, ScopeIds: scope, AfterKey: after, RowLimit: limit, MaxMembers: MaxGroupCustomers})
		for _, r := range rows {
			out = append(out, dupRow{r.Key, r.Members, r.Ids})
		}
	case ReasonName:
		var rows []dbsqlc.DuplicateNamesRow
		rows, err = s.q.DuplicateNames(ctx, tx, dbsqlc.DuplicateNamesParams{TenantID: t, ScopeIds: scope, AfterKey: after, RowLimit: limit, MaxMembers: MaxGroupCustomers})
		for _, r := range rows {
			out = append(out, dupRow{r.Key, r.Members, r.Ids})
		}
	default:
		return nil, fmt.Errorf("unknown duplicate reason %q", reason)
	}
	if err != nil {
		return nil, fmt.Errorf("find duplicates by %s: %w", reason, err)
	}
	return out, nil
}
