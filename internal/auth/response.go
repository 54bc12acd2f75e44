package auth

import (
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
)

// The API's views that the service records in the audit trail (package
// audit) as well as the handlers answer with.

type roleResponse struct {
	// ID is null for built-in roles.
	ID          *uuid.UUID `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Permissions []string   `json:"permissions"`
	Builtin     bool       `json:"builtin"`
	// Version is the custom role's version (its ETag); absent for
	// built-in roles, which cannot change.
	Version int64 `json:"version,omitempty"`
}

func toRoleResponse(r dbsqlc.Role) roleResponse {
	id := r.ID
	perms := r.Permissions
	if perms == nil {
		perms = []string{}
	}
	return roleResponse{ID: &id, Name: r.Name, Description: r.Description, Permissions: perms, Version: r.Version}
}

type userResponse struct {
	ID         uuid.UUID  `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Visibility string     `json:"visibility"`
	CustomerID *uuid.UUID `json:"customer_id"`
	Status     string     `json:"status"`
	Version    int64      `json:"version"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

func toUserResponse(u User) userResponse {
	vis := u.Visibility
	if u.Role == RolePortal {
		vis = tenant.VisibilityPortal
	}
	return userResponse{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Visibility: vis, CustomerID: u.CustomerID,
		Status: u.Status, Version: u.Version, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}
