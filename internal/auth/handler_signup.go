package auth

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/ratelimit"
	"github.com/customerhub/customerhub/internal/tenant"
)

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
	in := SignupInput(req)
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	err := httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
