package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
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
	p, err := h.svc.Authenticate(c.UserContext(), token)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return httpapi.Unauthorized("the token is invalid, expired or revoked")
	case errors.Is(err, ErrTenantSuspended):
		return httpapi.Forbidden("this tenant is suspended")
	case err != nil:
		return err
	}
	c.SetUserContext(tenant.WithPrincipal(c.UserContext(), p))
	return c.Next()
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

// tx runs fn in the request's tenant transaction (httpapi.Tx: idempotency
// keys included); fn writes the response.
func (h *Handler) tx(c *fiber.Ctx, fn func(ctx context.Context, tx database.Tx) error, opts ...database.TxOption) error {
	return MapError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		return fn(ctx, tx)
	}, opts...))
}

// ---- signup and login ------------------------------------------------------

type signupRequest struct {
	Company  string `json:"company"`
	Slug     string `json:"slug,omitempty"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

type tenantResponse struct {
	ID        uuid.UUID `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

func toTenantResponse(t dbsqlc.Tenant) tenantResponse {
	return tenantResponse{ID: t.ID, Slug: t.Slug, Name: t.Name, Status: t.Status, CreatedAt: t.CreatedAt}
}

type signupResponse struct {
	Tenant tenantResponse `json:"tenant"`
	User   userResponse   `json:"user"`
	Token  string         `json:"token"`
}

func (h *Handler) signup(c *fiber.Ctx) error {
	var req signupRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in := SignupInput{Company: req.Company, Slug: req.Slug, Email: req.Email, Name: req.Name, Password: req.Password}
	if err := in.Validate(); err != nil {
		return err
	}
	// Counted once the request is valid, just before the expensive part.
	if h.opts.Limiter != nil {
		res := h.opts.Limiter.Allow(c.UserContext(), "signup:"+c.IP(), ratelimit.PerHour(h.opts.SignupPerIPHour))
		if !res.Allowed {
			return httpapi.TooManyRequests("too many signups from your address; try again later", int(res.RetryAfter.Seconds()+0.999))
		}
	}
	res, err := h.svc.Signup(c.UserContext(), in)
	if err != nil {
		return MapError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(signupResponse{
		Tenant: toTenantResponse(res.Tenant), User: toUserResponse(res.User), Token: res.Token,
	})
}

type loginRequest struct {
	Tenant   string `json:"tenant"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token string `json:"token"`
}

func (h *Handler) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	var errs = validateLogin(req)
	if err := errs.Err(); err != nil {
		return err
	}
	token, err := h.svc.Login(c.UserContext(), LoginInput{Tenant: req.Tenant, Email: req.Email, Password: req.Password, IP: c.IP()})
	if err != nil {
		return MapError(err)
	}
	return c.JSON(loginResponse{Token: token})
}

func (h *Handler) logout(c *fiber.Ctx) error {
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		if err := h.svc.Logout(ctx, tx, tenant.MustFromContext(ctx)); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

type meUser struct {
	ID         uuid.UUID  `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Visibility string     `json:"visibility"`
	CustomerID *uuid.UUID `json:"customer_id"`
}

type meTenant struct {
	ID   uuid.UUID `json:"id"`
	Slug string    `json:"slug"`
	Name string    `json:"name"`
}

type meResponse struct {
	User        meUser   `json:"user"`
	Tenant      meTenant `json:"tenant"`
	Permissions []string `json:"permissions"`
}

func (h *Handler) me(c *fiber.Ctx) error {
	p := tenant.MustFromContext(c.UserContext())
	var name string
	err := h.tx(c, func(ctx context.Context, tx database.Tx) error {
		t, err := h.svc.q.TenantGetByID(ctx, tx, tx.TenantID())
		name = t.Name
		return err
	}, database.ReadOnly)
	if err != nil {
		return err
	}
	perms := p.Permissions
	if perms == nil {
		perms = []string{}
	}
	return c.JSON(meResponse{
		User:   meUser{ID: p.UserID, Email: p.Email, Name: p.Name, Role: p.Role, Visibility: p.Visibility, CustomerID: p.CustomerID},
		Tenant: meTenant{ID: p.TenantID, Slug: p.TenantSlug, Name: name}, Permissions: perms,
	})
}

type permissionsResponse struct {
	Items []string `json:"items"`
}

func (h *Handler) permissions(c *fiber.Ctx) error {
	return c.JSON(permissionsResponse{Items: AllPermissions})
}

// ---- tokens ----------------------------------------------------------------

type createTokenRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

type tokenResponse struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// Token is present only in the answer to the creation.
	Token string `json:"token,omitempty"`
}

func toTokenResponse(t dbsqlc.ApiToken) tokenResponse {
	return tokenResponse{ID: t.ID, Name: t.Name, Kind: t.Kind, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt}
}

type tokenListResponse struct {
	Items []tokenResponse `json:"items"`
}

func (h *Handler) createToken(c *fiber.Ctx) error {
	var req createTokenRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in := TokenInput{Name: req.Name, ExpiresAt: req.ExpiresAt}
	if err := in.Validate(time.Now()); err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		row, token, err := h.svc.CreateToken(ctx, tx, tenant.MustFromContext(ctx), in)
		if err != nil {
			return err
		}
		resp := toTokenResponse(row)
		resp.Token = token
		return c.Status(fiber.StatusCreated).JSON(resp)
	})
}

func (h *Handler) listTokens(c *fiber.Ctx) error {
	resp := tokenListResponse{Items: []tokenResponse{}}
	err := h.tx(c, func(ctx context.Context, tx database.Tx) error {
		rows, err := h.svc.ListTokens(ctx, tx, tenant.MustFromContext(ctx))
		for _, r := range rows {
			resp.Items = append(resp.Items, toTokenResponse(r))
		}
		return err
	}, database.ReadOnly)
	if err != nil {
		return err
	}
	return c.JSON(resp)
}

func (h *Handler) deleteToken(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	err = h.tx(c, func(ctx context.Context, tx database.Tx) error {
		return h.svc.DeleteToken(ctx, tx, tenant.MustFromContext(ctx), id)
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// ---- users -----------------------------------------------------------------

type createUserRequest struct {
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Password   string     `json:"password"`
	Role       string     `json:"role"`
	Visibility string     `json:"visibility,omitempty"`
	CustomerID *uuid.UUID `json:"customer_id,omitempty"`
}

type patchUserRequest struct {
	Email      httpapi.Optional[string]    `json:"email"`
	Name       httpapi.Optional[string]    `json:"name"`
	Password   httpapi.Optional[string]    `json:"password"`
	Role       httpapi.Optional[string]    `json:"role"`
	Visibility httpapi.Optional[string]    `json:"visibility"`
	CustomerID httpapi.Optional[uuid.UUID] `json:"customer_id"`
	Status     httpapi.Optional[string]    `json:"status"`
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

type userListResponse struct {
	Items      []userResponse `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

func (h *Handler) createUser(c *fiber.Ctx) error {
	var req createUserRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in := UserInput{Email: req.Email, Name: req.Name, Password: req.Password, Role: req.Role, Visibility: req.Visibility, CustomerID: req.CustomerID}
	if err := in.Validate(); err != nil {
		return err
	}
	hash, err := h.svc.hasher.Hash(c.UserContext(), in.Password)
	if err != nil {
		return err
	}
	in.PasswordHash = hash
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		u, err := h.svc.CreateUser(ctx, tx, tenant.MustFromContext(ctx), in)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityUser, EntityID: u.ID, CustomerID: u.CustomerID, Action: audit.ActionCreate, After: toUserResponse(u)}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(u.Version))
		c.Set(fiber.HeaderLocation, "/v1/users/"+u.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toUserResponse(u))
	})
}

func (h *Handler) listUsers(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	status, err := httpapi.QueryText(c, "status", 20)
	if err != nil {
		return err
	}
	if status != nil && *status != "active" && *status != "disabled" {
		return httpapi.BadRequest("status", "invalid_choice", "must be active or disabled")
	}
	var after UserCursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	var cursor *UserCursor
	if has {
		cursor = &after
	}
	var users []User
	err = h.tx(c, func(ctx context.Context, tx database.Tx) error {
		var err error
		users, err = h.svc.ListUsers(ctx, tx, cursor, status, limit+1)
		return err
	}, database.ReadOnly, database.CustomPlans)
	if err != nil {
		return err
	}
	resp := userListResponse{Items: []userResponse{}}
	if len(users) > int(limit) {
		users = users[:limit]
		last := users[len(users)-1]
		next := httpapi.EncodeCursor(UserCursor{Name: last.Name, ID: last.ID})
		resp.NextCursor = &next
	}
	for _, u := range users {
		resp.Items = append(resp.Items, toUserResponse(u))
	}
	return c.JSON(resp)
}

func (h *Handler) getUser(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var u User
	err = h.tx(c, func(ctx context.Context, tx database.Tx) error {
		var err error
		u, err = h.svc.GetUser(ctx, tx, id)
		return err
	}, database.ReadOnly)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, httpapi.ETag(u.Version))
	return c.JSON(toUserResponse(u))
}

func (h *Handler) patchUser(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req patchUserRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	patch, err := req.toPatch()
	if err != nil {
		return err
	}
	if patch.Password != nil {
		if patch.PasswordHash, err = h.svc.hasher.Hash(c.UserContext(), *patch.Password); err != nil {
			return err
		}
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, err := h.svc.GetUser(ctx, tx, id)
		if err != nil {
			return err
		}
		u, err := h.svc.UpdateUser(ctx, tx, tenant.MustFromContext(ctx), id, want, patch)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityUser, EntityID: id, CustomerID: linkedCustomer(before, u), Action: audit.ActionUpdate,
			Before: toUserResponse(before), After: toUserResponse(u)}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(u.Version))
		return c.JSON(toUserResponse(u))
	})
}

// linkedCustomer is the customer a portal user's audit event belongs to:
// the one it is linked to after the change, else before.
func linkedCustomer(before, after User) *uuid.UUID {
	if after.CustomerID != nil {
		return after.CustomerID
	}
	return before.CustomerID
}

func (req patchUserRequest) toPatch() (UserPatch, error) {
	var p UserPatch
	var errs = notNull(map[string]bool{
		"email": req.Email.Set && req.Email.Null, "name": req.Name.Set && req.Name.Null,
		"password": req.Password.Set && req.Password.Null, "role": req.Role.Set && req.Role.Null,
		"visibility": req.Visibility.Set && req.Visibility.Null, "status": req.Status.Set && req.Status.Null,
	})
	if err := errs.Err(); err != nil {
		return p, err
	}
	p.Email = optionalValue(req.Email)
	p.Name = optionalValue(req.Name)
	p.Password = optionalValue(req.Password)
	p.Role = optionalValue(req.Role)
	p.Visibility = optionalValue(req.Visibility)
	p.Status = optionalValue(req.Status)
	if req.CustomerID.Set {
		p.CustomerIDSet = true
		if !req.CustomerID.Null {
			id := req.CustomerID.Value
			p.CustomerID = &id
		}
	}
	return p, p.Validate()
}

func optionalValue[T any](o httpapi.Optional[T]) *T {
	if !o.Set || o.Null {
		return nil
	}
	v := o.Value
	return &v
}

func (h *Handler) deleteUser(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, err := h.svc.GetUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := h.svc.DisableUser(ctx, tx, tenant.MustFromContext(ctx), id); err != nil {
			return err
		}
		after, err := h.svc.GetUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityUser, EntityID: id, CustomerID: linkedCustomer(before, after), Action: audit.ActionUpdate,
			Before: toUserResponse(before), After: toUserResponse(after)}); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// ---- roles -----------------------------------------------------------------

type createRoleRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Permissions []string `json:"permissions"`
}

type patchRoleRequest struct {
	Name        httpapi.Optional[string]   `json:"name"`
	Description httpapi.Optional[string]   `json:"description"`
	Permissions httpapi.Optional[[]string] `json:"permissions"`
}

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

type roleListResponse struct {
	Items []roleResponse `json:"items"`
}

func (h *Handler) createRole(c *fiber.Ctx) error {
	var req createRoleRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in := RoleInput{Name: req.Name, Description: req.Description, Permissions: req.Permissions}
	if err := in.Validate(); err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		r, err := h.svc.CreateRole(ctx, tx, tenant.MustFromContext(ctx), in)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityRole, EntityID: r.ID, Action: audit.ActionCreate, After: toRoleResponse(r)}); err != nil {
			return err
		}
		c.Set(fiber.HeaderLocation, "/v1/roles/"+r.ID.String())
		c.Set(fiber.HeaderETag, httpapi.ETag(r.Version))
		return c.Status(fiber.StatusCreated).JSON(toRoleResponse(r))
	})
}

func (h *Handler) listRoles(c *fiber.Ctx) error {
	resp := roleListResponse{Items: []roleResponse{}}
	for _, br := range BuiltinRoles {
		resp.Items = append(resp.Items, roleResponse{Name: br.Name, Description: br.Description, Permissions: br.Permissions, Builtin: true})
	}
	err := h.tx(c, func(ctx context.Context, tx database.Tx) error {
		rs, err := h.svc.ListRoles(ctx, tx)
		for _, r := range rs {
			resp.Items = append(resp.Items, toRoleResponse(r))
		}
		return err
	}, database.ReadOnly)
	if err != nil {
		return err
	}
	return c.JSON(resp)
}

func (h *Handler) getRole(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var r dbsqlc.Role
	err = h.tx(c, func(ctx context.Context, tx database.Tx) error {
		var err error
		r, err = h.svc.GetRole(ctx, tx, id)
		return err
	}, database.ReadOnly)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, httpapi.ETag(r.Version))
	return c.JSON(toRoleResponse(r))
}

func (h *Handler) patchRole(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req patchRoleRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	errs := notNull(map[string]bool{
		"name": req.Name.Set && req.Name.Null, "description": req.Description.Set && req.Description.Null,
		"permissions": req.Permissions.Set && req.Permissions.Null,
	})
	if err := errs.Err(); err != nil {
		return err
	}
	patch := RolePatch{Name: optionalValue(req.Name), Description: optionalValue(req.Description), Permissions: optionalValue(req.Permissions)}
	if err := patch.Validate(); err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, err := h.svc.GetRole(ctx, tx, id)
		if err != nil {
			return err
		}
		r, err := h.svc.UpdateRole(ctx, tx, tenant.MustFromContext(ctx), id, want, patch)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityRole, EntityID: id, Action: audit.ActionUpdate,
			Before: toRoleResponse(before), After: toRoleResponse(r)}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(r.Version))
		return c.JSON(toRoleResponse(r))
	})
}

func (h *Handler) deleteRole(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, err := h.svc.GetRole(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := h.svc.DeleteRole(ctx, tx, tenant.MustFromContext(ctx), id); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityRole, EntityID: id, Action: audit.ActionDelete, Before: toRoleResponse(before)}); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
