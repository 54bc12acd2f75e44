package auth

import (
	"github.com/customerhub/customerhub/internal/validation"
)

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
