package auth

import (
	"sort"

	"github.com/customerhub/customerhub/internal/validation"
)

// notNull reports a "must not be null" error for each field flagged true,
// in a stable order.
func notNull(flags map[string]bool) validation.Errors {
	var names []string
	for name, isNull := range flags {
		if isNull {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var errs validation.Errors
	for _, n := range names {
		errs.Add(n, "not_nullable", "must not be null")
	}
	return errs
}

func validateLogin(req loginRequest) validation.Errors {
	var errs validation.Errors
	errs.Text("tenant", req.Tenant, 1, 64)
	errs.Text("email", req.Email, 1, 254)
	if req.Password == "" {
		errs.Add("password", "required", "must not be empty")
	} else if len(req.Password) > 256 {
		errs.Add("password", "too_long", "must be at most 256 bytes")
	}
	return errs
}
