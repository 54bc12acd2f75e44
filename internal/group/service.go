package group

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Service implements the package's operations inside the caller's tenant
// transaction.
type Service struct {
	q      *dbsqlc.Queries
	logger *slog.Logger
}

// NewService returns a Service.
func NewService(logger *slog.Logger) *Service {
	return &Service{q: dbsqlc.New(), logger: logger}
}

// membersOnly reports whether the caller sees only the groups its own
// customer belongs to. Portal users are the tenant's customers: the other
// groups, with their price lists, credit limits and discounts, are the
// tenant's internal terms.
func membersOnly(tx database.Tx) bool {
	return tx.Scope().Visibility == tenant.VisibilityPortal
}

func toGroup(g dbsqlc.CustomerGroup, categoryName string, categoryPosition int32, customerCount int64) Group {
	return Group{
		ID: g.ID, Category: g.Category, CategoryName: categoryName, CategoryPosition: categoryPosition,
		Code: g.Code, Name: g.Name, PriceListID: g.PriceListID, PaymentTermsID: g.PaymentTermsID,
		CreditLimit: g.CreditLimit, CreditDays: g.CreditDays, DiscountRate: g.DiscountRate,
		CustomerCount: customerCount, Version: g.Version, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt,
	}
}

func toMembership(g dbsqlc.CustomerGroup, categoryName string, categoryPosition int32) Membership {
	return Membership{
		Category: g.Category, CategoryName: categoryName, CategoryPosition: categoryPosition,
		GroupID: g.ID, Code: g.Code, Name: g.Name, PriceListID: g.PriceListID, PaymentTermsID: g.PaymentTermsID,
		CreditLimit: g.CreditLimit, CreditDays: g.CreditDays, DiscountRate: g.DiscountRate,
	}
}

// ensureCategory returns the category with key, creating it at the end of
// the fallback order when it does not exist yet.
func (s *Service) ensureCategory(ctx context.Context, tx database.Tx, key string) (dbsqlc.GroupCategory, error) {
	c, err := s.q.GroupCategoryGetByKey(ctx, tx, dbsqlc.GroupCategoryGetByKeyParams{TenantID: tx.TenantID(), Key: key})
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("get group category: %w", err)
	}
	c, err = s.q.GroupCategoryInsert(ctx, tx, dbsqlc.GroupCategoryInsertParams{TenantID: tx.TenantID(), Key: key, Name: CategoryName(key)})
	if errors.Is(err, pgx.ErrNoRows) {
		// Created concurrently by another transaction, committed since.
		c, err = s.q.GroupCategoryGetByKey(ctx, tx, dbsqlc.GroupCategoryGetByKeyParams{TenantID: tx.TenantID(), Key: key})
	}
	if err != nil {
		return c, fmt.Errorf("create group category: %w", err)
	}
	return c, nil
}

// writeError maps the constraint violations of a group insert or update.
func writeError(err error) error {
	switch {
	case database.IsUniqueViolation(err, "customer_groups_code_key"):
		return ErrCodeTaken
	case database.IsForeignKeyViolation(err, "customer_groups_price_list_fkey"):
		return validation.Errors{{Field: "price_list_id", Code: "not_found", Message: "no price list with this id"}}
	case database.IsForeignKeyViolation(err, "customer_groups_payment_terms_fkey"):
		return validation.Errors{{Field: "payment_terms_id", Code: "not_found", Message: "no payment terms with this id"}}
	}
	return err
}

// Create adds a group, its category when it does not exist yet, and
// records the audit event.
func (s *Service) Create(ctx context.Context, tx database.Tx, p Patch) (Group, error) {
	r, err := NewRecord(p)
	if err != nil {
		return Group{}, err
	}
	cat, err := s.ensureCategory(ctx, tx, r.Category)
	if err != nil {
		return Group{}, err
	}
	g, err := s.q.GroupInsert(ctx, tx, dbsqlc.GroupInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), Category: r.Category, Code: r.Code, Name: r.Name,
		PriceListID: r.PriceListID, PaymentTermsID: r.PaymentTermsID,
		CreditLimit: r.CreditLimit, CreditDays: r.CreditDays, DiscountRate: r.DiscountRate,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Group{}, ErrCodeTaken
	}
	if err != nil {
		if mapped := writeError(err); mapped != err {
			return Group{}, mapped
		}
		return Group{}, fmt.Errorf("insert customer group: %w", err)
	}
	created := toGroup(g, cat.Name, cat.Position, 0)
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityGroup, EntityID: g.ID, Action: audit.ActionCreate, After: toGroupResponse(created)})
	if err != nil {
		return Group{}, err
	}
	return created, nil
}

// Get returns a group with the number of its members the caller can see.
func (s *Service) Get(ctx context.Context, tx database.Tx, id uuid.UUID) (Group, error) {
	row, err := s.q.GroupGetByID(ctx, tx, dbsqlc.GroupGetByIDParams{TenantID: tx.TenantID(), ID: id, MembersOnly: membersOnly(tx)})
	if errors.Is(err, pgx.ErrNoRows) {
		return Group{}, ErrNotFound
	}
	if err != nil {
		return Group{}, fmt.Errorf("get customer group: %w", err)
	}
	return toGroup(row.CustomerGroup, row.CategoryName, row.CategoryPosition, row.CustomerCount), nil
}

// Cursor is the position after the last group of a page.
type Cursor struct {
	UpdatedAt time.Time `json:"u"`
	ID        uuid.UUID `json:"i"`
}

// ListParams selects a page of groups. Code and Name are user text matched
// case-insensitively according to Match; Category is a normalized key.
type ListParams struct {
	Code     *string
	Name     *string
	Match    string
	Category *string
	After    *Cursor
	Limit    int32
}

// List returns a page of groups, most recently modified first.
func (s *Service) List(ctx context.Context, tx database.Tx, lp ListParams) ([]Group, error) {
	p := dbsqlc.GroupListParams{TenantID: tx.TenantID(), Category: lp.Category, MembersOnly: membersOnly(tx), RowLimit: lp.Limit}
	if lp.Code != nil {
		v := likePattern(*lp.Code, lp.Match)
		p.CodePattern = &v
	}
	if lp.Name != nil {
		v := likePattern(*lp.Name, lp.Match)
		p.NamePattern = &v
	}
	if lp.After != nil {
		p.AfterUpdatedAt, p.AfterID = &lp.After.UpdatedAt, &lp.After.ID
	}
	rows, err := s.q.GroupList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list customer groups: %w", err)
	}
	out := make([]Group, 0, len(rows))
	for _, r := range rows {
		out = append(out, toGroup(r.CustomerGroup, r.CategoryName, r.CategoryPosition, r.CustomerCount))
	}
	return out, nil
}

// Update applies a patch when want matches the stored version, records
// the change against the row as it locked it, and returns the group after.
func (s *Service) Update(ctx context.Context, tx database.Tx, id uuid.UUID, want precondition.IfMatch, p Patch) (Group, error) {
	cur, err := s.q.GroupGetByIDForUpdate(ctx, tx, dbsqlc.GroupGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Group{}, ErrNotFound
	}
	if err != nil {
		return Group{}, fmt.Errorf("lock customer group: %w", err)
	}
	before := toGroup(cur.CustomerGroup, cur.CategoryName, cur.CategoryPosition, cur.CustomerCount)
	if !want.Matches(cur.CustomerGroup.Version) {
		return Group{}, ErrVersionMismatch
	}
	g := cur.CustomerGroup
	r := Record{Category: g.Category, Code: g.Code, Name: g.Name, PriceListID: g.PriceListID, PaymentTermsID: g.PaymentTermsID,
		CreditLimit: g.CreditLimit, CreditDays: g.CreditDays, DiscountRate: g.DiscountRate}
	if err := p.Apply(&r); err != nil {
		return Group{}, err
	}
	g, err = s.q.GroupUpdate(ctx, tx, dbsqlc.GroupUpdateParams{
		TenantID: tx.TenantID(), ID: id, Code: r.Code, Name: r.Name, PriceListID: r.PriceListID, PaymentTermsID: r.PaymentTermsID,
		CreditLimit: r.CreditLimit, CreditDays: r.CreditDays, DiscountRate: r.DiscountRate,
	})
	if err != nil {
		if mapped := writeError(err); mapped != err {
			return Group{}, mapped
		}
		return Group{}, fmt.Errorf("update customer group: %w", err)
	}
	after := toGroup(g, cur.CategoryName, cur.CategoryPosition, cur.CustomerCount)
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityGroup, EntityID: id, Action: audit.ActionUpdate,
		Before: toGroupResponse(before), After: toGroupResponse(after)})
	if err != nil {
		return Group{}, err
	}
	return after, nil
}

// Delete removes a group without members, records the audit event and
// returns the group as it was. The
// foreign key from customer_group_members refuses the delete while any
// customer is in the group, including customers the caller cannot see.
func (s *Service) Delete(ctx context.Context, tx database.Tx, id uuid.UUID) (Group, error) {
	cur, err := s.q.GroupGetByIDForUpdate(ctx, tx, dbsqlc.GroupGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Group{}, ErrNotFound
	}
	if err != nil {
		return Group{}, fmt.Errorf("lock customer group: %w", err)
	}
	n, err := s.q.GroupDelete(ctx, tx, dbsqlc.GroupDeleteParams{TenantID: tx.TenantID(), ID: id})
	switch {
	case database.IsForeignKeyViolation(err, "customer_group_members_group_fkey"):
		return Group{}, ErrInUse
	case err != nil:
		return Group{}, fmt.Errorf("delete customer group: %w", err)
	case n == 0:
		return Group{}, ErrNotFound
	}
	g := toGroup(cur.CustomerGroup, cur.CategoryName, cur.CategoryPosition, cur.CustomerCount)
	if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityGroup, EntityID: id, Action: audit.ActionDelete, Before: toGroupResponse(g)}); err != nil {
		return Group{}, err
	}
	return g, nil
}

// CategoryCursor is the position after the last category of a page.
type CategoryCursor struct {
	Position int32  `json:"p"`
	Key      string `json:"k"`
}

// ListCategories returns a page of categories in fallback order.
func (s *Service) ListCategories(ctx context.Context, tx database.Tx, after *CategoryCursor, limit int32) ([]Category, error) {
	p := dbsqlc.GroupCategoryListParams{TenantID: tx.TenantID(), MembersOnly: membersOnly(tx), RowLimit: limit}
	if after != nil {
		p.AfterPosition, p.AfterKey = &after.Position, &after.Key
	}
	rows, err := s.q.GroupCategoryList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list group categories: %w", err)
	}
	out := make([]Category, 0, len(rows))
	for _, r := range rows {
		out = append(out, toCategory(r.GroupCategory, r.GroupCount))
	}
	return out, nil
}

func toCategory(c dbsqlc.GroupCategory, groupCount int64) Category {
	return Category{ID: c.ID, Key: c.Key, Name: c.Name, Position: c.Position, GroupCount: groupCount, Version: c.Version,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// UpdateCategory renames or moves a category in the fallback order when
// its version satisfies want (else ErrVersionMismatch), records the
// change (under the category's id) against the row as it locked it, and
// returns the category after. key is normalized like on group creation.
func (s *Service) UpdateCategory(ctx context.Context, tx database.Tx, key string, want precondition.IfMatch, p CategoryPatch) (Category, error) {
	k, ok := NormalizeCategory(key)
	if !ok {
		return Category{}, ErrCategoryNotFound
	}
	cur, err := s.q.GroupCategoryGetByKeyForUpdate(ctx, tx, dbsqlc.GroupCategoryGetByKeyForUpdateParams{TenantID: tx.TenantID(), Key: k})
	if errors.Is(err, pgx.ErrNoRows) {
		return Category{}, ErrCategoryNotFound
	}
	if err != nil {
		return Category{}, fmt.Errorf("lock group category: %w", err)
	}
	if !want.Matches(cur.Version) {
		return Category{}, ErrVersionMismatch
	}
	n, err := s.q.GroupCategoryGroupCount(ctx, tx, dbsqlc.GroupCategoryGroupCountParams{TenantID: tx.TenantID(), Category: k, MembersOnly: membersOnly(tx)})
	if err != nil {
		return Category{}, fmt.Errorf("count category groups: %w", err)
	}
	before := toCategory(cur, n)
	next := dbsqlc.GroupCategoryUpdateParams{TenantID: tx.TenantID(), Key: k, Name: cur.Name, Position: cur.Position}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Position != nil {
		next.Position = *p.Position
	}
	c, err := s.q.GroupCategoryUpdate(ctx, tx, next)
	if err != nil {
		return Category{}, fmt.Errorf("update group category: %w", err)
	}
	after := toCategory(c, n)
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityGroupCategory, EntityID: after.ID, Action: audit.ActionUpdate,
		Before: toCategoryResponse(before), After: toCategoryResponse(after)})
	if err != nil {
		return Category{}, err
	}
	return after, nil
}

// Resolve turns a customer write's "groups" object (category key → group code, or nil to leave the category) into the memberships to set and the categories to remove. An unknown category or code is a validation.Errors entry with Field "groups.<category>" (code "unknown_group"); category keys are normalized like on group creation.
//
// Codes are matched exactly after trimming; a blank code leaves the
// category like nil does. set comes in fallback order (category position,
// then key) and remove in key order. A key that appears twice after
// normalization ("Region" and "region") is an error too (code
// "duplicate_category").
func (s *Service) Resolve(ctx context.Context, tx database.Tx, want map[string]*string) (set []Membership, remove []string, err error) {
	if len(want) == 0 {
		return nil, nil, nil
	}
	type wanted struct {
		field string
		code  *string
	}
	var errs validation.Errors
	byKey := map[string]wanted{}
	var keys []string
	raws := make([]string, 0, len(want))
	for raw := range want {
		raws = append(raws, raw)
	}
	slices.Sort(raws)
	for _, raw := range raws {
		k, ok := NormalizeCategory(raw)
		if !ok {
			errs.Add("groups."+raw, "unknown_group", "no group category has this key")
			continue
		}
		field := "groups." + k
		if _, dup := byKey[k]; dup {
			errs.Add(field, "duplicate_category", "the category appears more than once")
			continue
		}
		var code *string
		if c := want[raw]; c != nil && strings.TrimSpace(*c) != "" {
			v := strings.TrimSpace(*c)
			code = &v
		}
		byKey[k] = wanted{field: field, code: code}
		keys = append(keys, k)
	}
	if len(keys) > 0 {
		cats, err := s.q.GroupCategoryListByKeys(ctx, tx, dbsqlc.GroupCategoryListByKeysParams{TenantID: tx.TenantID(), Keys: keys})
		if err != nil {
			return nil, nil, fmt.Errorf("read group categories: %w", err)
		}
		exists := map[string]bool{}
		for _, c := range cats {
			exists[c.Key] = true
		}
		var qCats, qCodes []string
		for _, k := range keys {
			w := byKey[k]
			switch {
			case !exists[k]:
				errs.Add(w.field, "unknown_group", "no group category has this key")
			case w.code == nil:
				remove = append(remove, k)
			default:
				qCats, qCodes = append(qCats, k), append(qCodes, *w.code)
			}
		}
		if len(qCats) > 0 {
			rows, err := s.q.GroupListByCodes(ctx, tx, dbsqlc.GroupListByCodesParams{TenantID: tx.TenantID(), Categories: qCats, Codes: qCodes})
			if err != nil {
				return nil, nil, fmt.Errorf("find customer groups: %w", err)
			}
			found := map[string]Membership{}
			for _, r := range rows {
				found[r.CustomerGroup.Category] = toMembership(r.CustomerGroup, r.CategoryName, r.CategoryPosition)
			}
			for _, k := range qCats {
				m, ok := found[k]
				if !ok {
					errs.Add(byKey[k].field, "unknown_group", "no group with this code in the category")
					continue
				}
				set = append(set, m)
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(set, func(a, b Membership) int {
		return cmp.Or(cmp.Compare(a.CategoryPosition, b.CategoryPosition), cmp.Compare(a.Category, b.Category))
	})
	slices.Sort(remove)
	return set, remove, nil
}

// SetMemberships upserts the customer's membership per category in `set` and deletes those in `remove`.
//
// A customer the caller cannot see (or that does not exist) is
// ErrCustomerNotFound. A group deleted since Resolve read it is a
// validation error on "groups". Naming a category twice, or in both set
// and remove, is a programming error.
func (s *Service) SetMemberships(ctx context.Context, tx database.Tx, customerID uuid.UUID, set []Membership, remove []string) error {
	seen := map[string]bool{}
	cats := make([]string, 0, len(set))
	ids := make([]uuid.UUID, 0, len(set))
	for _, m := range set {
		if seen[m.Category] {
			return fmt.Errorf("set memberships: category %q given twice", m.Category)
		}
		seen[m.Category] = true
		cats, ids = append(cats, m.Category), append(ids, m.GroupID)
	}
	for _, k := range remove {
		if seen[k] {
			return fmt.Errorf("set memberships: category %q given twice", k)
		}
		seen[k] = true
	}
	if len(remove) > 0 {
		if _, err := s.q.GroupMemberDelete(ctx, tx, dbsqlc.GroupMemberDeleteParams{
			TenantID: tx.TenantID(), CustomerID: customerID, Categories: remove,
		}); err != nil {
			return fmt.Errorf("remove group memberships: %w", err)
		}
	}
	if len(set) == 0 {
		return nil
	}
	// The memberships take the customer's reach (the customer package's
	// ReachForShare, which this package cannot import).
	reach, err := s.q.CustomerReachForShare(ctx, tx, dbsqlc.CustomerReachForShareParams{TenantID: tx.TenantID(), ID: customerID})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrCustomerNotFound
	}
	if err != nil {
		return fmt.Errorf("read customer reach: %w", err)
	}
	err = s.q.GroupMemberUpsert(ctx, tx, dbsqlc.GroupMemberUpsertParams{
		TenantID: tx.TenantID(), CustomerID: customerID, Categories: cats, GroupIds: ids, Reach: reach,
	})
	switch {
	case database.IsPolicyViolation(err), database.IsForeignKeyViolation(err, "customer_group_members_customer_fkey"):
		return ErrCustomerNotFound
	case database.IsForeignKeyViolation(err, "customer_group_members_group_fkey"):
		return validation.Errors{{Field: "groups", Code: "unknown_group", Message: "a group was deleted meanwhile; try again"}}
	case err != nil:
		return fmt.Errorf("set group memberships: %w", err)
	}
	return nil
}

// ForCustomers loads the memberships of the given customers, each list ordered by category position then key.
//
// Customers without memberships, and customers the caller cannot see, are
// absent from the map.
func (s *Service) ForCustomers(ctx context.Context, tx database.Tx, customerIDs []uuid.UUID) (map[uuid.UUID][]Membership, error) {
	out := map[uuid.UUID][]Membership{}
	if len(customerIDs) == 0 {
		return out, nil
	}
	rows, err := s.q.GroupMemberListByCustomers(ctx, tx, dbsqlc.GroupMemberListByCustomersParams{TenantID: tx.TenantID(), CustomerIds: customerIDs})
	if err != nil {
		return nil, fmt.Errorf("load group memberships: %w", err)
	}
	for _, r := range rows {
		out[r.CustomerID] = append(out[r.CustomerID], toMembership(r.CustomerGroup, r.CategoryName, r.CategoryPosition))
	}
	return out, nil
}
