package auth

import (
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
)

// The values the user bodies' members take, as users.go validates them.
var (
	visibilities = []string{tenant.VisibilityAll, tenant.VisibilityAssigned}
	userStatuses = []string{"active", "disabled"}
)

// OpenAPIFields implements httpapi.Documented.
func (createUserRequest) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"email": {Format: "email"}, "visibility": {Enum: visibilities}}
}

// OpenAPIFields implements httpapi.Documented.
func (patchUserRequest) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"email": {Format: "email"}, "visibility": {Enum: visibilities},
		"status": {Enum: userStatuses}}
}

// OpenAPIFields implements httpapi.Documented.
func (userResponse) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"visibility": {Enum: visibilities}, "status": {Enum: userStatuses}}
}
