package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// RoleInput creates a custom role.
type RoleInput struct {
	Name        string
	Description string
	Permissions []string
}

// Validate checks and normalizes the input.
func (in *RoleInput) Validate() error {
	var errs validation.Errors
	in.Name = errs.Text("name", in.Name, 1, 64)
	if _, builtin := Builtin(in.Name); builtin {
		errs.Add("name", "reserved", "is the name of a built-in role")
	}
	in.Description = errs.Text("description", in.Description, 0, 500)
	checkPermissions(&errs, in.Permissions)
	in.Permissions = normalizePermissions(in.Permissions)
	return errs.Err()
}

func checkPermissions(errs *validation.Errors, perms []string) {
	for i, p := range perms {
		if !IsPermission(p) {
			errs.Add(fmt.Sprintf("permissions.%d", i), "unknown_permission", "unknown permission "+fmt.Sprintf("%q", p))
		}
	}
}

func normalizePermissions(perms []string) []string {
	out := slices.Clone(perms)
	slices.Sort(out)
	return slices.Compact(out)
}

// RolePatch changes some fields of a custom role; nil means unchanged.
type RolePatch struct {
	Name        *string
	Description *string
	Permissions *[]string
}

// Validate checks and normalizes the patch.
func (p *RolePatch) Validate() error {
	var errs validation.Errors
	if p.Name != nil {
		v := errs.Text("name", *p.Name, 1, 64)
		if _, builtin := Builtin(v); builtin {
			errs.Add("name", "reserved", "is the name of a built-in role")
		}
		p.Name = &v
	}
	if p.Description != nil {
		v := errs.Text("description", *p.Description, 0, 500)
		p.Description = &v
	}
	if p.Permissions != nil {
		checkPermissions(&errs, *p.Permissions)
		v := normalizePermissions(*p.Permissions)
		p.Permissions = &v
	}
	return errs.Err()
}

// roleCheck words checkReach's refusals for roles.
var roleCheck = reachCheck{permField: "permissions"}

// CreateRole adds a custom role with no permission the actor lacks, and
// records the audit event.
func (s *Service) CreateRole(ctx context.Context, tx database.Tx, actor *tenant.Principal, in RoleInput) (dbsqlc.Role, error) {
	if err := s.checkReach(ctx, tx, actor, reach{permissions: in.Permissions}, roleCheck); err != nil {
		return dbsqlc.Role{}, err
	}
	r, err := s.q.RoleInsert(ctx, tx, dbsqlc.RoleInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), Name: in.Name, Description: in.Description, Permissions: in.Permissions,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.Role{}, ErrRoleNameTaken
	}
	if err != nil {
		return dbsqlc.Role{}, fmt.Errorf("insert role: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityRole, EntityID: r.ID, Action: audit.ActionCreate, After: toRoleResponse(r)}); err != nil {
		return dbsqlc.Role{}, err
	}
	return r, nil
}

// GetRole returns a custom role.
func (s *Service) GetRole(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.Role, error) {
	r, err := s.q.RoleGetByID(ctx, tx, dbsqlc.RoleGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.Role{}, ErrRoleNotFound
	}
	if err != nil {
		return dbsqlc.Role{}, fmt.Errorf("get role: %w", err)
	}
	return r, nil
}

// ListRoles returns the tenant's custom roles by name.
func (s *Service) ListRoles(ctx context.Context, tx database.Tx) ([]dbsqlc.Role, error) {
	rs, err := s.q.RoleList(ctx, tx, tx.TenantID())
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return rs, nil
}

// UpdateRole changes a custom role whose version satisfies want (else
// ErrVersionMismatch) and records the change against the row as it
// locked it. Users holding it see the new permissions on their
// next request, so changing them changes every holder: the actor's reach
// must cover the role's permissions, old and new, and every holder's
// visibility and customers, as if they changed each holder in turn.
func (s *Service) UpdateRole(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID, want precondition.IfMatch, p RolePatch) (dbsqlc.Role, error) {
	cur, err := s.q.RoleGetByIDForUpdate(ctx, tx, dbsqlc.RoleGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.Role{}, ErrRoleNotFound
	}
	if err != nil {
		return dbsqlc.Role{}, fmt.Errorf("lock role: %w", err)
	}
	if !want.Matches(cur.Version) {
		return dbsqlc.Role{}, ErrVersionMismatch
	}
	if err := s.checkReach(ctx, tx, actor, reach{permissions: cur.Permissions}, reachCheck{permField: "permissions", existing: true}); err != nil {
		return dbsqlc.Role{}, err
	}
	next := dbsqlc.RoleUpdateParams{TenantID: tx.TenantID(), ID: id, Name: cur.Name, Description: cur.Description, Permissions: cur.Permissions}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Description != nil {
		next.Description = *p.Description
	}
	if p.Permissions != nil && !slices.Equal(*p.Permissions, cur.Permissions) {
		target, err := s.holdersReach(ctx, tx, id, *p.Permissions)
		if err != nil {
			return dbsqlc.Role{}, err
		}
		if err := s.checkReach(ctx, tx, actor, target, roleCheck); err != nil {
			return dbsqlc.Role{}, err
		}
		next.Permissions = *p.Permissions
	}
	r, err := s.q.RoleUpdate(ctx, tx, next)
	if database.IsUniqueViolation(err, "roles_name_key") {
		return dbsqlc.Role{}, ErrRoleNameTaken
	}
	if err != nil {
		return dbsqlc.Role{}, fmt.Errorf("update role: %w", err)
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityRole, EntityID: id, Action: audit.ActionUpdate,
		Before: toRoleResponse(cur), After: toRoleResponse(r)})
	if err != nil {
		return dbsqlc.Role{}, err
	}
	return r, nil
}

// DeleteRole removes a custom role that no user holds, locked first, and
// records the audit event.
func (s *Service) DeleteRole(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID) error {
	cur, err := s.q.RoleGetByIDForUpdate(ctx, tx, dbsqlc.RoleGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrRoleNotFound
	}
	if err != nil {
		return fmt.Errorf("lock role: %w", err)
	}
	if err := s.checkReach(ctx, tx, actor, reach{permissions: cur.Permissions}, reachCheck{permField: "permissions", existing: true}); err != nil {
		return err
	}
	n, err := s.q.RoleUserCount(ctx, tx, dbsqlc.RoleUserCountParams{TenantID: tx.TenantID(), RoleID: &id})
	if err != nil {
		return fmt.Errorf("count role users: %w", err)
	}
	if n > 0 {
		return ErrRoleInUse
	}
	// The users_role_fkey foreign key still guards a user assigned
	// concurrently: the delete then fails instead of orphaning them.
	if _, err := s.q.RoleDelete(ctx, tx, dbsqlc.RoleDeleteParams{TenantID: tx.TenantID(), ID: id}); err != nil {
		if database.IsForeignKeyViolation(err, "users_role_fkey") {
			return ErrRoleInUse
		}
		return fmt.Errorf("delete role: %w", err)
	}
	return audit.Record(ctx, tx, audit.Event{Entity: audit.EntityRole, EntityID: id, Action: audit.ActionDelete, Before: toRoleResponse(cur)})
}

// holdersReach is the reach the holders of custom role id get with the
// given permissions: the widest of their visibilities, and the customers of
// those who see assigned ones. Custom roles are never the portal role.
func (s *Service) holdersReach(ctx context.Context, tx database.Tx, id uuid.UUID, permissions []string) (reach, error) {
	holders, err := s.q.UserListByRole(ctx, tx, dbsqlc.UserListByRoleParams{TenantID: tx.TenantID(), RoleID: &id})
	if err != nil {
		return reach{}, fmt.Errorf("list role holders: %w", err)
	}
	target := reach{permissions: permissions}
	for _, h := range holders {
		if visibilityRank(h.Visibility) > visibilityRank(target.visibility) {
			target.visibility = h.Visibility
		}
		if h.Visibility == tenant.VisibilityAssigned {
			target.sightOf = append(target.sightOf, h.ID)
		}
	}
	return target, nil
}
