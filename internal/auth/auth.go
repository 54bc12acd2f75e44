// Package auth manages tenants, users, roles and bearer tokens: signup,
// login with throttling, argon2id password hashing, personal API tokens,
// and the middleware that resolves a token to a tenant.Principal and checks
// a route's permission.
package auth

import (
	"errors"
	"slices"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Sentinel errors.
var (
	ErrInvalidCredentials = errors.New("invalid credentials")
	ErrUnauthenticated    = errors.New("missing, invalid, expired or revoked token")
	ErrTenantSuspended    = errors.New("tenant suspended")
	ErrSlugTaken          = errors.New("slug already taken")
	ErrEmailTaken         = errors.New("email already used in this tenant")
	ErrUserNotFound       = errors.New("user not found")
	ErrRoleNotFound       = errors.New("role not found")
	ErrRoleNameTaken      = errors.New("role name already used")
	ErrRoleInUse          = errors.New("role still assigned to users")
	ErrTokenNotFound      = errors.New("token not found")
	ErrLastAdmin          = errors.New("the tenant's last active admin")
	ErrSelf               = errors.New("cannot do this to your own account")
	ErrVersionMismatch    = errors.New("version mismatch")
	ErrSignupDisabled     = errors.New("public signup is disabled")
)

// Permissions a role can hold (DESIGN.md section 3).
const (
	PermCustomersRead   = "customers:read"
	PermCustomersWrite  = "customers:write"
	PermCustomersDelete = "customers:delete"
	PermCustomersImport = "customers:import"
	PermCustomersExport = "customers:export"
	PermCustomersMerge  = "customers:merge"
	// PermCustomersAssign lets a user who does not see every customer
	// change who is a customer's sales rep (see CheckSalesRep).
	PermCustomersAssign = "customers:assign"
	PermGroupsWrite     = "groups:write"
	PermOrdersWrite     = "orders:write"
	PermCreditOverride  = "credit:override"
	PermSMSSend         = "sms:send"
	PermReportsRead     = "reports:read"
	PermUsersManage     = "users:manage"
	PermSettingsManage  = "settings:manage"
)

// AllPermissions lists every permission, in a stable order.
var AllPermissions = []string{
	PermCustomersRead, PermCustomersWrite, PermCustomersDelete, PermCustomersImport,
	PermCustomersExport, PermCustomersMerge, PermCustomersAssign, PermGroupsWrite, PermOrdersWrite,
	PermCreditOverride, PermSMSSend, PermReportsRead, PermUsersManage, PermSettingsManage,
}

// Built-in role names.
const (
	RoleAdmin    = "admin"
	RoleManager  = "manager"
	RoleSalesRep = "sales_rep"
	RoleAccounts = "accounts"
	RoleViewer   = "viewer"
	RolePortal   = "portal"
)

// BuiltinRole is a role every tenant has; it cannot be edited.
type BuiltinRole struct {
	Name        string
	Description string
	Permissions []string
	// DefaultVisibility applies when a user is created without one.
	DefaultVisibility string
}

// BuiltinRoles lists the built-in roles. The seeds' roles map onto them:
// Empress's "Sales Master Manager" is admin; AssetBlaze's "Manager" adds and
// edits but does not delete; its "Member" is a viewer.
var BuiltinRoles = []BuiltinRole{
	{Name: RoleAdmin, Description: "Full control of the tenant, its users and settings.",
		Permissions: AllPermissions, DefaultVisibility: "all"},
	{Name: RoleManager, Description: "Adds and edits customers, groups and orders; cannot delete customers or manage users.",
		Permissions: []string{PermCustomersRead, PermCustomersWrite, PermCustomersImport, PermCustomersExport,
			PermCustomersAssign, PermGroupsWrite, PermOrdersWrite, PermReportsRead, PermSMSSend}, DefaultVisibility: "all"},
	{Name: RoleSalesRep, Description: "Works the customers assigned to them.",
		Permissions: []string{PermCustomersRead, PermCustomersWrite, PermOrdersWrite}, DefaultVisibility: "assigned"},
	{Name: RoleAccounts, Description: "Receivables: reads customers, records orders and payments, sends balance notices.",
		Permissions:       []string{PermCustomersRead, PermCustomersExport, PermOrdersWrite, PermReportsRead, PermSMSSend},
		DefaultVisibility: "all"},
	{Name: RoleViewer, Description: "Read-only access to customers and reports.",
		Permissions: []string{PermCustomersRead, PermReportsRead}, DefaultVisibility: "all"},
	{Name: RolePortal, Description: "A customer's own login: sees only its linked account.",
		Permissions: []string{PermCustomersRead}, DefaultVisibility: "portal"},
}

// Builtin returns the built-in role with the given name.
func Builtin(name string) (BuiltinRole, bool) {
	for _, r := range BuiltinRoles {
		if r.Name == name {
			return r, true
		}
	}
	return BuiltinRole{}, false
}

// IsPermission reports whether p names a permission.
func IsPermission(p string) bool { return slices.Contains(AllPermissions, p) }

// covers reports whether have includes every permission of want: a user
// may only hand out roles no stronger than their own.
func covers(have, want []string) bool {
	for _, p := range want {
		if !slices.Contains(have, p) {
			return false
		}
	}
	return true
}

// MayAssignReps reports whether p may change who is a sales rep: users who
// see every customer, and holders of customers:assign. Being a customer's
// (or one of its locations') rep is what lets an 'assigned' user see it,
// so setting a rep hands out reach; a user who sees only their own
// customers must not hand it out, neither to themselves (taking over a
// customer they were merely granted, cutting out its rep) nor to another
// rep (sharing a customer through a location override). A user who sees
// every customer confers nothing beyond their own sight, which is why
// visibility 'all' suffices, as it did before the permission existed
// (custom roles made then keep working).
func MayAssignReps(p *tenant.Principal) bool {
	return p.Visibility == tenant.VisibilityAll || p.Can(PermCustomersAssign)
}

// AssignRule says CheckSalesRep in the route summaries of the writes it
// governs (so the API description names the permission).
const AssignRule = "setting sales_rep_id needs " + PermCustomersAssign + " unless you see every customer"

// CheckSalesRep is the one rule for setting a sales rep, on a customer or
// as a location's override, one at a time or in bulk: callers apply it
// whenever the rep would change. creating says the rep is that of a
// customer the actor is creating: a customer a rep creates is theirs, so
// naming themselves needs no further right. Refusals are field errors on
// sales_rep_id (own_only when creating, not_allowed otherwise).
func CheckSalesRep(p *tenant.Principal, creating bool, rep *uuid.UUID) error {
	switch {
	case MayAssignReps(p):
		return nil
	case creating && rep != nil && *rep == p.UserID:
		return nil
	case creating:
		return validation.Errors{{Field: "sales_rep_id", Code: "own_only", Message: "a customer you create is assigned to you"}}
	}
	return validation.Errors{{Field: "sales_rep_id", Code: "not_allowed",
		Message: "changing a sales rep needs the permission " + PermCustomersAssign + " or a user who sees every customer"}}
}
