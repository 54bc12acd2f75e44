package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/ratelimit"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Handler serves signup, login, tokens, users and roles, and provides the
// authentication middleware.
type Handler struct {
	db   database.Beginner
	svc  *Service
	opts HandlerOptions
}

// HandlerOptions tunes a Handler.
type HandlerOptions struct {
	// Limiter counts public signups per client IP, at most SignupPerIPHour
	// an hour: each costs a password hash and creates a tenant. Nil: no
	// limit.
	Limiter         *ratelimit.Limiter
	SignupPerIPHour int
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service, opts HandlerOptions) *Handler {
	return &Handler{db: db, svc: svc, opts: opts}
}

// Routes registers the handler's routes.
func (h *Handler) Routes(r *httpapi.Router) {
	r = r.WithErrors(MapError)
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/signup", Permission: httpapi.Public, Tag: "auth",
		Summary: "Create a tenant with its first admin user and a session token", Status: fiber.StatusCreated,
		Request: signupRequest{}, Response: signupResponse{}, Handler: h.signup})
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/auth/login", Permission: httpapi.Public, Tag: "auth",
		Summary: "Log in with e-mail and password; returns a session token",
		Request: loginRequest{}, Response: loginResponse{}, Handler: h.login})
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/auth/logout", Permission: httpapi.Authenticated, Tag: "auth",
		Summary: "Revoke the token used for this request", Status: fiber.StatusNoContent, Handler: h.logout})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/me", Permission: httpapi.Authenticated, Tag: "auth",
		Summary: "The calling user, their tenant and permissions", Response: meResponse{}, Handler: h.me})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/permissions", Permission: httpapi.Authenticated, Tag: "auth",
		Summary: "Every permission a role can hold", Response: permissionsResponse{}, Handler: h.permissions})

	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/tokens", Permission: httpapi.Authenticated, Tag: "tokens",
		Summary: "Create a personal API token (shown once)", Status: fiber.StatusCreated,
		Request: createTokenRequest{}, Response: tokenResponse{}, Handler: h.createToken})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/tokens", Permission: httpapi.Authenticated, Tag: "tokens",
		Summary: "List your personal API tokens", Response: tokenListResponse{}, Handler: h.listTokens})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/tokens/:id", Permission: httpapi.Authenticated, Tag: "tokens",
		Summary: "Revoke one of your personal API tokens", Status: fiber.StatusNoContent, Handler: h.deleteToken})

	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/users", Permission: PermUsersManage, Tag: "users",
		Summary: "Create a user", Status: fiber.StatusCreated, Request: createUserRequest{}, Response: userResponse{}, Handler: h.createUser})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/users", Permission: PermUsersManage, Tag: "users",
		Summary: "List users by name", Response: userListResponse{},
		Query: append([]httpapi.Param{{Name: "status", Description: "active or disabled"}}, httpapi.PageParams...), Handler: h.listUsers})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sales-reps", Permission: PermCustomersRead, Tag: "users",
		Summary:  "The tenant's active staff by name (id, name, role): who can be a customer's or location's sales rep; not for portal users",
		Response: salesRepListResponse{}, Query: httpapi.PageParams, Handler: h.listSalesReps})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/users/:id", Permission: PermUsersManage, Tag: "users",
		Summary: "Get a user", Response: userResponse{}, Handler: h.getUser})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/users/:id", Permission: PermUsersManage, Tag: "users",
		Summary: "Change a user (needs If-Match)", Request: patchUserRequest{}, Response: userResponse{}, IfMatch: true, Handler: h.patchUser})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/users/:id", Permission: PermUsersManage, Tag: "users",
		Summary: "Disable a user and revoke their tokens (users are kept for history)", Status: fiber.StatusNoContent, Handler: h.deleteUser})

	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/roles", Permission: PermUsersManage, Tag: "roles",
		Summary: "Create a custom role", Status: fiber.StatusCreated, Request: createRoleRequest{}, Response: roleResponse{}, Handler: h.createRole})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/roles", Permission: PermUsersManage, Tag: "roles",
		Summary: "List built-in and custom roles", Response: roleListResponse{}, Handler: h.listRoles})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/roles/:id", Permission: PermUsersManage, Tag: "roles",
		Summary: "Get a custom role", Response: roleResponse{}, Handler: h.getRole})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/roles/:id", Permission: PermUsersManage, Tag: "roles",
		Summary: "Change a custom role (needs If-Match)", Request: patchRoleRequest{}, Response: roleResponse{}, IfMatch: true, Handler: h.patchRole})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/roles/:id", Permission: PermUsersManage, Tag: "roles",
		Summary: "Delete a custom role no user holds", Status: fiber.StatusNoContent, Handler: h.deleteRole})
}

// ---- middleware -----------------------------------------------------------

// Authenticate resolves the bearer token to a principal and stores it in
// the request's user context. Every non-public route runs it.
func (h *Handler) Authenticate(c *fiber.Ctx) error {
	scheme, token, found := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsRune(token, ' ') {
		return httpapi.Unauthorized("send a bearer token: Authorization: Bearer <token>")
	}
	// A GET or HEAD reads: its transaction is read only unless its
	// handler asks for more (database.RequestTx then begins another).
	method := c.Method()
	readOnly := method == fiber.MethodGet || method == fiber.MethodHead
	a, err := h.svc.AuthenticateRequest(c.UserContext(), token, readOnly)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return httpapi.Unauthorized("the token is invalid, expired or revoked")
	case errors.Is(err, ErrTenantSuspended):
		return httpapi.Forbidden("this tenant is suspended")
	case err != nil:
		return err
	}
	ctx := tenant.WithPrincipal(c.UserContext(), a.Principal)
	c.SetUserContext(database.WithRequestTx(ctx, a.Tx))
	err = c.Next()
	a.Tx.End(ctx)
	if a.TouchDue {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if terr := h.svc.Touch(tctx, a.Principal); terr != nil {
			h.svc.logger.Warn("record token use", "err", terr, "tenant_id", a.Principal.TenantID)
		}
	}
	return err
}

// Permit checks that the authenticated principal holds permission.
func Permit(permission string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := tenant.MustFromContext(c.UserContext())
		if permission != httpapi.Authenticated && !p.Can(permission) {
			return httpapi.Forbidden("your role lacks the permission " + permission)
		}
		return c.Next()
	}
}

// MapError turns the package's errors into HTTP errors. Handlers of other
// packages whose operations ask auth whether the actor may reach a user
// (grants) map its answers with it too.
func MapError(err error) error {
	var locked *LockedError
	var beyond *BeyondReachError
	var self *SelfError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &beyond):
		return &httpapi.Error{Status: fiber.StatusUnprocessableEntity, Code: "beyond_reach",
			Message: "this would reach further than your own role, visibility and customers", Fields: beyond.Fields}
	case errors.As(err, &self):
		msg := "you cannot change your own " + self.Field + "; ask another user manager"
		switch self.Field {
		case "status":
			msg = "you cannot disable your own account"
		case "customer_id":
			msg = "you cannot change your own customer link or grants; ask another user manager"
		}
		return httpapi.Conflict(self.Field, "self", msg)
	case errors.As(err, &locked):
		return httpapi.TooManyRequests("too many failed logins; try again later", int(locked.RetryAfter.Seconds()+0.999))
	case errors.Is(err, ErrInvalidCredentials):
		return &httpapi.Error{Status: fiber.StatusUnauthorized, Code: "invalid_credentials", Message: "wrong tenant, e-mail or password"}
	case errors.Is(err, ErrSignupDisabled):
		return httpapi.Forbidden("public signup is disabled on this instance; ask the operator for a tenant")
	case errors.Is(err, ErrSlugTaken):
		return httpapi.Conflict("slug", "slug_taken", "this slug is already taken")
	case errors.Is(err, ErrEmailTaken):
		return httpapi.Conflict("email", "email_taken", "a user with this e-mail already exists")
	case errors.Is(err, ErrUserNotFound):
		return httpapi.NotFound("user")
	case errors.Is(err, ErrRoleNotFound):
		return httpapi.NotFound("role")
	case errors.Is(err, ErrTokenNotFound):
		return httpapi.NotFound("token")
	case errors.Is(err, ErrRoleNameTaken):
		return httpapi.Conflict("name", "name_taken", "a role with this name already exists")
	case errors.Is(err, ErrRoleInUse):
		return httpapi.Conflict("", "role_in_use", "users still hold this role; give them another role first")
	case errors.Is(err, ErrLastAdmin):
		return httpapi.Conflict("", "last_admin", "this is the tenant's last active admin")
	case errors.Is(err, ErrVersionMismatch):
		return httpapi.PreconditionFailed()
	}
	return err
}
