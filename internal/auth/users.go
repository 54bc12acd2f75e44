package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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

func (s *Service) resolveRole(ctx context.Context, tx database.Tx, name string) (resolvedRole, error) {
	if br, ok := Builtin(name); ok {
		n := br.Name
		return resolvedRole{builtin: &n, name: n, permissions: br.Permissions, defaultVis: br.DefaultVisibility}, nil
	}
	r, err := s.q.RoleGetByName(ctx, tx, dbsqlc.RoleGetByNameParams{TenantID: tx.TenantID(), Name: name})
	if errors.Is(err, pgx.ErrNoRows) {
		return resolvedRole{}, validation.Errors{{Field: "role", Code: "unknown_role", Message: "no built-in or custom role has this name"}}
	}
	if err != nil {
		return resolvedRole{}, fmt.Errorf("look up role: %w", err)
	}
	id := r.ID
	return resolvedRole{roleID: &id, name: r.Name, permissions: r.Permissions, defaultVis: tenant.VisibilityAll}, nil
}

// checkAssignable refuses a role stronger than the actor's own (privilege
// escalation through users:manage) and a portal role without its customer.
func checkAssignable(actor *tenant.Principal, r resolvedRole, customerID *uuid.UUID) error {
	var errs validation.Errors
	if !covers(actor.Permissions, r.permissions) {
		errs.Add("role", "role_too_strong", "you cannot assign a role with permissions you do not hold")
	}
	portal := r.builtin != nil && *r.builtin == RolePortal
	switch {
	case portal && customerID == nil:
		errs.Add("customer_id", "required", "a portal user must be linked to a customer")
	case !portal && customerID != nil:
		errs.Add("customer_id", "not_allowed", "only portal users are linked to a customer")
	}
	return errs.Err()
}

// CreateUser adds a user to the actor's tenant.
func (s *Service) CreateUser(ctx context.Context, tx database.Tx, actor *tenant.Principal, in UserInput) (User, error) {
	r, err := s.resolveRole(ctx, tx, in.Role)
	if err != nil {
		return User{}, err
	}
	if err := checkAssignable(actor, r, in.CustomerID); err != nil {
		return User{}, err
	}
	vis := in.Visibility
	if vis == "" || vis == tenant.VisibilityPortal {
		vis = r.defaultVis
	}
	if vis == tenant.VisibilityPortal {
		vis = tenant.VisibilityAll // portal users are scoped by role, see Authenticate
	}
	u, err := s.q.UserInsert(ctx, tx, dbsqlc.UserInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), Email: in.Email, Name: in.Name, PasswordHash: in.PasswordHash,
		BuiltinRole: r.builtin, RoleID: r.roleID, Visibility: vis, CustomerID: in.CustomerID,
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return User{}, ErrEmailTaken
	case database.IsForeignKeyViolation(err, "users_customer_fkey"):
		return User{}, validation.Errors{{Field: "customer_id", Code: "not_found", Message: "no such customer"}}
	case err != nil:
		return User{}, fmt.Errorf("insert user: %w", err)
	}
	name := r.name
	return toUser(u, &name), nil
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
// disabled user loses access at once.
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
	if p.Visibility != nil {
		next.Visibility = *p.Visibility
	}
	if p.CustomerIDSet {
		next.CustomerID = p.CustomerID
	}
	if p.Status != nil && *p.Status != cur.Status {
		if id == actor.UserID {
			return User{}, ErrSelf
		}
		next.Status, revoke = *p.Status, true
	}
	roleName := ""
	if p.Role != nil {
		r, err := s.resolveRole(ctx, tx, *p.Role)
		if err != nil {
			return User{}, err
		}
		if (r.builtin == nil) != (cur.BuiltinRole == nil) || (r.builtin != nil && *r.builtin != *cur.BuiltinRole) ||
			(r.roleID != nil && cur.RoleID != nil && *r.roleID != *cur.RoleID) {
			revoke = true
		}
		next.BuiltinRole, next.RoleID, roleName = r.builtin, r.roleID, r.name
		if err := checkAssignable(actor, r, next.CustomerID); err != nil {
			return User{}, err
		}
	} else if p.CustomerIDSet {
		r := resolvedRole{builtin: cur.BuiltinRole, roleID: cur.RoleID}
		if err := checkAssignable(&tenant.Principal{Permissions: AllPermissions}, r, next.CustomerID); err != nil {
			return User{}, err
		}
	}
	// An actor cannot edit a user stronger than themselves either.
	if curRole, err := s.currentPermissions(ctx, tx, cur); err != nil {
		return User{}, err
	} else if !covers(actor.Permissions, curRole) {
		return User{}, validation.Errors{{Field: "role", Code: "role_too_strong", Message: "you cannot edit a user with permissions you do not hold"}}
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
		return User{}, validation.Errors{{Field: "customer_id", Code: "not_found", Message: "no such customer"}}
	case err != nil:
		return User{}, fmt.Errorf("update user: %w", err)
	}
	if revoke {
		if _, err := s.q.APITokenDeleteByUser(ctx, tx, dbsqlc.APITokenDeleteByUserParams{TenantID: tx.TenantID(), UserID: id}); err != nil {
			return User{}, fmt.Errorf("revoke tokens: %w", err)
		}
	}
	if roleName == "" {
		return s.GetUser(ctx, tx, id)
	}
	return toUser(u, &roleName), nil
}

func (s *Service) currentPermissions(ctx context.Context, tx database.Tx, u dbsqlc.User) ([]string, error) {
	if u.BuiltinRole != nil {
		br, _ := Builtin(*u.BuiltinRole)
		return br.Permissions, nil
	}
	if u.RoleID == nil {
		return nil, nil
	}
	r, err := s.q.RoleGetByID(ctx, tx, dbsqlc.RoleGetByIDParams{TenantID: tx.TenantID(), ID: *u.RoleID})
	if err != nil {
		return nil, fmt.Errorf("get role: %w", err)
	}
	return r.Permissions, nil
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

// DisableUser deactivates a user and revokes their tokens. Users are never
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
