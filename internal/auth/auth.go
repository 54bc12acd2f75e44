// Package auth manages tenants, users, roles and bearer tokens: signup,
// login with throttling, argon2id password hashing, personal API tokens,
// and the middleware that resolves a token to a tenant.Principal and checks
// a route's permission.
package auth

import (
	"errors"
	"slices"
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
	PermCustomersExport, PermCustomersMerge, PermGroupsWrite, PermOrdersWrite,
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
			PermGroupsWrite, PermOrdersWrite, PermReportsRead, PermSMSSend}, DefaultVisibility: "all"},
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
