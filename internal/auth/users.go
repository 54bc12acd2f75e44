package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// UserInput creates a user. PasswordHash is filled by the caller from
// Password (hashing happens before the transaction opens, so a slow hash
// never holds a connection).
type UserInput struct {
	Email        string
	Name         string
	Password     string
	PasswordHash string
	Role         string
	Visibility   string // empty: the role's default
	CustomerID   *uuid.UUID
}

// Validate checks and normalizes the input.
func (in *UserInput) Validate() error {
	var errs validation.Errors
	in.Email = errs.Email("email", in.Email)
	in.Name = errs.Text("name", in.Name, 1, 200)
	checkPassword(&errs, "password", in.Password)
	in.Role = errs.Text("role", in.Role, 1, 64)
	if in.Visibility != "" {
		errs.OneOf("visibility", in.Visibility, tenant.VisibilityAll, tenant.VisibilityAssigned)
	}
	return errs.Err()
}

// UserPatch changes some fields of a user; nil means unchanged.
type UserPatch struct {
	Email        *string
	Name         *string
	Password     *string
	PasswordHash string
	Role         *string
	Visibility   *string
	// CustomerIDSet with a nil CustomerID clears the link.
	CustomerIDSet bool
	CustomerID    *uuid.UUID
	Status        *string
}

// Validate checks and normalizes the patch.
func (p *UserPatch) Validate() error {
	var errs validation.Errors
	if p.Email != nil {
		v := errs.Email("email", *p.Email)
		p.Email = &v
	}
	if p.Name != nil {
		v := errs.Text("name", *p.Name, 1, 200)
		p.Name = &v
	}
	if p.Password != nil {
		checkPassword(&errs, "password", *p.Password)
	}
	if p.Role != nil {
		v := errs.Text("role", *p.Role, 1, 64)
		p.Role = &v
	}
	if p.Visibility != nil {
		errs.OneOf("visibility", *p.Visibility, tenant.VisibilityAll, tenant.VisibilityAssigned)
	}
	if p.Status != nil {
		errs.OneOf("status", *p.Status, "active", "disabled")
	}
	return errs.Err()
}

// resolvedRole is a role name turned into what a users row stores.
type resolvedRole struct {
	builtin     *string
	roleID      *uuid.UUID
	name        string
	permissions []string
	defaultVis  string
}

// builtinRole is a built-in role.
func builtinRole(br BuiltinRole) resolvedRole {
	n := br.Name
	return resolvedRole{builtin: &n, name: n, permissions: br.Permissions, defaultVis: br.DefaultVisibility}
}

// customRole is a custom role; its users see every customer unless given
// a visibility (see defaultVisibility).
func customRole(r dbsqlc.Role) resolvedRole {
	id := r.ID
	return resolvedRole{roleID: &id, name: r.Name, permissions: r.Permissions, defaultVis: tenant.VisibilityAll}
}

// isPortal reports whether the role is the built-in portal role.
func (r resolvedRole) isPortal() bool { return r.builtin != nil && *r.builtin == RolePortal }

// same reports whether r and o are the same role.
func (r resolvedRole) same(o resolvedRole) bool {
	switch {
	case r.builtin != nil && o.builtin != nil:
		return *r.builtin == *o.builtin
	case r.roleID != nil && o.roleID != nil:
		return *r.roleID == *o.roleID
	}
	return false
}

// effectiveVisibility is what a user of this role with the stored
// visibility sees: portal users are scoped by their role (see principal),
// whatever is stored.
func (r resolvedRole) effectiveVisibility(stored string) string {
	if r.isPortal() {
		return tenant.VisibilityPortal
	}
	return stored
}

// defaultVisibility is the visibility a user of this role gets when none
// is asked for: the role's default, but never wider than the actor's own,
// so that an 'assigned' manager creating, say, a viewer creates an
// 'assigned' one. Portal users store 'assigned', the narrowest value the
// column takes: what is stored never applies to them (effectiveVisibility).
func (r resolvedRole) defaultVisibility(actor *tenant.Principal) string {
	if r.isPortal() {
		return tenant.VisibilityAssigned
	}
	v := narrower(r.defaultVis, actor.Visibility)
	if v == tenant.VisibilityPortal {
		// Only 'all' and 'assigned' can be stored; checkReach refuses
		// the result for a portal actor anyway.
		v = tenant.VisibilityAssigned
	}
	return v
}

func (s *Service) resolveRole(ctx context.Context, tx database.Tx, name string) (resolvedRole, error) {
	if br, ok := Builtin(name); ok {
		return builtinRole(br), nil
	}
	r, err := s.q.RoleGetByName(ctx, tx, dbsqlc.RoleGetByNameParams{TenantID: tx.TenantID(), Name: name})
	if errors.Is(err, pgx.ErrNoRows) {
		return resolvedRole{}, validation.Errors{{Field: "role", Code: "unknown_role", Message: "no built-in or custom role has this name"}}
	}
	if err != nil {
		return resolvedRole{}, fmt.Errorf("look up role: %w", err)
	}
	return customRole(r), nil
}

// checkPortalLink refuses a portal role without its customer, and a
// customer link on any other role.
func checkPortalLink(r resolvedRole, customerID *uuid.UUID) error {
	var errs validation.Errors
	switch {
	case r.isPortal() && customerID == nil:
		errs.Add("customer_id", "required", "a portal user must be linked to a customer")
	case !r.isPortal() && customerID != nil:
		errs.Add("customer_id", "not_allowed", "only portal users are linked to a customer")
	}
	return errs.Err()
}

// CreateUser adds a user to the actor's tenant, with no more reach than
// the actor's own: a role within their permissions, a visibility no wider
// than theirs (by default the role's, narrowed to theirs), and for a portal
// user a customer they see. It records the audit event.
func (s *Service) CreateUser(ctx context.Context, tx database.Tx, actor *tenant.Principal, in UserInput) (User, error) {
	r, err := s.resolveRole(ctx, tx, in.Role)
	if err != nil {
		return User{}, err
	}
	if err := checkPortalLink(r, in.CustomerID); err != nil {
		return User{}, err
	}
	vis := in.Visibility
	if vis == "" || r.isPortal() {
		vis = r.defaultVisibility(actor)
	}
	target := reach{permissions: r.permissions, visibility: r.effectiveVisibility(vis), customerID: in.CustomerID}
	if err := s.checkReach(ctx, tx, actor, target, reachCheck{permField: "role"}); err != nil {
		return User{}, err
	}
	u, err := s.q.UserInsert(ctx, tx, dbsqlc.UserInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), Email: in.Email, Name: in.Name, PasswordHash: in.PasswordHash,
		BuiltinRole: r.builtin, RoleID: r.roleID, Visibility: vis, CustomerID: in.CustomerID,
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return User{}, ErrEmailTaken
	case database.IsForeignKeyViolation(err, "users_customer_fkey"):
		return User{}, customerGone()
	case err != nil:
		return User{}, fmt.Errorf("insert user: %w", err)
	}
	name := r.name
	created := toUser(u, &name)
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityUser, EntityID: created.ID, CustomerID: created.CustomerID,
		Action: audit.ActionCreate, After: toUserResponse(created)})
	if err != nil {
		return User{}, err
	}
	return created, nil
}

// customerGone is the answer for a portal link to a customer deleted
// since checkReach read it: the same as for one that never existed.
func customerGone() error {
	return &BeyondReachError{Fields: validation.Errors{{Field: "customer_id", Code: "not_found", Message: "no such customer"}}}
}

// GetUser returns one user of the tenant.
func (s *Service) GetUser(ctx context.Context, tx database.Tx, id uuid.UUID) (User, error) {
	row, err := s.q.UserGetByID(ctx, tx, dbsqlc.UserGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrUserNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	return toUser(row.User, row.RoleName), nil
}

// UserCursor is the position after the last user of a page.
type UserCursor struct {
	Name string    `json:"n"`
	ID   uuid.UUID `json:"i"`
}

// ListUsers pages through the tenant's users by name.
func (s *Service) ListUsers(ctx context.Context, tx database.Tx, after *UserCursor, status *string, limit int32) ([]User, error) {
	p := dbsqlc.UserListParams{TenantID: tx.TenantID(), Status: status, RowLimit: limit}
	if after != nil {
		p.AfterName, p.AfterID = &after.Name, &after.ID
	}
	rows, err := s.q.UserList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]User, 0, len(rows))
	for _, row := range rows {
		out = append(out, toUser(row.User, row.RoleName))
	}
	return out, nil
}

// UpdateUser applies a patch when want matches the stored version. Changing
// the password, role or status revokes the user's tokens, so a demoted or
// disabled user loses access at once. The change is recorded in the audit
// trail against the row as UpdateUser locked it.
//
// The actor may only change a user whose reach their own covers, and only
// into one it still covers (checkReach); and may change their own e-mail,
// name and password but not their own role, visibility, customer link or
// status (a *SelfError naming the field).
func (s *Service) UpdateUser(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID, want precondition.IfMatch, p UserPatch) (User, error) {
	cur, err := s.q.UserGetByIDForUpdate(ctx, tx, dbsqlc.UserGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrUserNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("lock user: %w", err)
	}
	if !want.Matches(cur.Version) {
		return User{}, ErrVersionMismatch
	}
	self := id == actor.UserID
	curRole, err := s.roleOf(ctx, tx, cur)
	if err != nil {
		return User{}, err
	}
	// An actor cannot change a user who reaches further than themselves,
	// not even their name or password (then log in as them).
	if !self {
		if err := s.checkReach(ctx, tx, actor, userReach(cur, curRole), reachCheck{permField: "role", existing: true}); err != nil {
			return User{}, err
		}
	}
	next := dbsqlc.UserUpdateParams{
		TenantID: tx.TenantID(), ID: id, Email: cur.Email, Name: cur.Name, PasswordHash: cur.PasswordHash,
		BuiltinRole: cur.BuiltinRole, RoleID: cur.RoleID, Visibility: cur.Visibility, CustomerID: cur.CustomerID, Status: cur.Status,
	}
	revoke := false
	if p.Email != nil {
		next.Email = *p.Email
	}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Password != nil {
		next.PasswordHash, revoke = p.PasswordHash, true
	}
	nextRole, roleChanged := curRole, false
	if p.Role != nil {
		if nextRole, err = s.resolveRole(ctx, tx, *p.Role); err != nil {
			return User{}, err
		}
		roleChanged = !nextRole.same(curRole)
		next.BuiltinRole, next.RoleID = nextRole.builtin, nextRole.roleID
	}
	switch {
	case p.Visibility != nil:
		next.Visibility = *p.Visibility
	case roleChanged && curRole.isPortal():
		// What a portal user stored never applied to them; leaving the
		// portal role they get the new role's default, as a new user would.
		next.Visibility = nextRole.defaultVisibility(actor)
	}
	if p.CustomerIDSet {
		next.CustomerID = p.CustomerID
	}
	if p.Status != nil {
		next.Status = *p.Status
	}
	linkChanged := !sameID(next.CustomerID, cur.CustomerID)
	if self {
		switch {
		case roleChanged:
			return User{}, &SelfError{Field: "role"}
		case next.Visibility != cur.Visibility:
			return User{}, &SelfError{Field: "visibility"}
		case linkChanged:
			return User{}, &SelfError{Field: "customer_id"}
		case next.Status != cur.Status:
			return User{}, &SelfError{Field: "status"}
		}
	}
	if roleChanged || p.CustomerIDSet {
		if err := checkPortalLink(nextRole, next.CustomerID); err != nil {
			return User{}, err
		}
	}
	if !self && (roleChanged || next.Visibility != cur.Visibility || linkChanged) {
		target := userReach(dbsqlc.User{ID: id, Visibility: next.Visibility, CustomerID: next.CustomerID}, nextRole)
		if err := s.checkReach(ctx, tx, actor, target, reachCheck{permField: "role"}); err != nil {
			return User{}, err
		}
	}
	if roleChanged || next.Status != cur.Status {
		revoke = true
	}
	wasAdmin := cur.BuiltinRole != nil && *cur.BuiltinRole == RoleAdmin && cur.Status == "active"
	staysAdmin := next.BuiltinRole != nil && *next.BuiltinRole == RoleAdmin && next.Status == "active"
	if wasAdmin && !staysAdmin {
		if err := s.ensureOtherAdmin(ctx, tx, id); err != nil {
			return User{}, err
		}
	}
	u, err := s.q.UserUpdate(ctx, tx, next)
	switch {
	case database.IsUniqueViolation(err, "users_email_key"):
		return User{}, ErrEmailTaken
	case database.IsForeignKeyViolation(err, "users_customer_fkey"):
		return User{}, customerGone()
	case err != nil:
		return User{}, fmt.Errorf("update user: %w", err)
	}
	if revoke {
		if _, err := s.q.APITokenDeleteByUser(ctx, tx, dbsqlc.APITokenDeleteByUserParams{TenantID: tx.TenantID(), UserID: id}); err != nil {
			return User{}, fmt.Errorf("revoke tokens: %w", err)
		}
	}
	before, after := toUser(cur, &curRole.name), toUser(u, &nextRole.name)
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityUser, EntityID: id, CustomerID: linkedCustomer(before, after),
		Action: audit.ActionUpdate, Before: toUserResponse(before), After: toUserResponse(after)})
	if err != nil {
		return User{}, err
	}
	return after, nil
}

// linkedCustomer is the customer a portal user's audit event belongs to:
// the one it is linked to after the change, else before.
func linkedCustomer(before, after User) *uuid.UUID {
	if after.CustomerID != nil {
		return after.CustomerID
	}
	return before.CustomerID
}

func sameID(a, b *uuid.UUID) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// roleOf resolves the role a user holds now.
func (s *Service) roleOf(ctx context.Context, tx database.Tx, u dbsqlc.User) (resolvedRole, error) {
	if u.BuiltinRole != nil {
		br, _ := Builtin(*u.BuiltinRole)
		return builtinRole(br), nil
	}
	if u.RoleID == nil {
		return resolvedRole{}, nil
	}
	r, err := s.q.RoleGetByID(ctx, tx, dbsqlc.RoleGetByIDParams{TenantID: tx.TenantID(), ID: *u.RoleID})
	if err != nil {
		return resolvedRole{}, fmt.Errorf("get role: %w", err)
	}
	return customRole(r), nil
}

// ensureOtherAdmin locks the tenant's active admins and refuses when the
// user is the last one. The row locks make two concurrent demotions of the
// last two admins serialize, so one of them fails.
func (s *Service) ensureOtherAdmin(ctx context.Context, tx database.Tx, id uuid.UUID) error {
	ids, err := s.q.UserLockActiveAdmins(ctx, tx, tx.TenantID())
	if err != nil {
		return fmt.Errorf("lock admins: %w", err)
	}
	for _, other := range ids {
		if other != id {
			return nil
		}
	}
	return ErrLastAdmin
}

// DisableUser deactivates a user and revokes their tokens (an update,
// recorded as UpdateUser records one). Users are never
// hard-deleted: customers, orders and the audit trail refer to them.
func (s *Service) DisableUser(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID) error {
	cur, err := s.q.UserGetByIDForUpdate(ctx, tx, dbsqlc.UserGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("lock user: %w", err)
	}
	status := "disabled"
	_, err = s.UpdateUser(ctx, tx, actor, id, precondition.Versions(cur.Version), UserPatch{Status: &status})
	return err
}
