package auth

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
)

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
	Email      patch.Field[string]    `json:"email"`
	Name       patch.Field[string]    `json:"name"`
	Password   patch.Field[string]    `json:"password"`
	Role       patch.Field[string]    `json:"role"`
	Visibility patch.Field[string]    `json:"visibility"`
	CustomerID patch.Field[uuid.UUID] `json:"customer_id" patch:"nullable"`
	Status     patch.Field[string]    `json:"status"`
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		u, err := h.svc.CreateUser(ctx, tx, tenant.MustFromContext(ctx), in)
		if err != nil {
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
	users, next, err := h.userPage(c, limit, status, nil, database.ReadOnly, database.CustomPlans)
	if err != nil {
		return err
	}
	resp := userListResponse{Items: []userResponse{}, NextCursor: next}
	for _, u := range users {
		resp.Items = append(resp.Items, toUserResponse(u))
	}
	return c.JSON(resp)
}

// userPage reads one page of the tenant's users by name (status when
// given) after the request's cursor, and the cursor of the next page (nil
// on the last). allow, when given, vets the caller first.
func (h *Handler) userPage(c *fiber.Ctx, limit int32, status *string, allow func(*tenant.Principal) error, opts ...database.TxOption) ([]User, *string, error) {
	var after UserCursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return nil, nil, err
	}
	var cursor *UserCursor
	if has {
		cursor = &after
	}
	var users []User
	err = httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		if allow != nil {
			if err := allow(actor); err != nil {
				return err
			}
		}
		var err error
		users, err = h.svc.ListUsers(ctx, tx, cursor, status, limit+1)
		return err
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	if len(users) <= int(limit) {
		return users, nil, nil
	}
	users = users[:limit]
	last := users[len(users)-1]
	next := httpapi.EncodeCursor(UserCursor{Name: last.Name, ID: last.ID})
	return users, &next, nil
}

func (h *Handler) getUser(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var u User
	err = httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		u, err := h.svc.UpdateUser(ctx, tx, tenant.MustFromContext(ctx), id, want, patch)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(u.Version))
		return c.JSON(toUserResponse(u))
	})
}

func (req patchUserRequest) toPatch() (UserPatch, error) {
	var p UserPatch
	if err := patch.NotNull(req).Err(); err != nil {
		return p, err
	}
	p.Email = req.Email.Value
	p.Name = req.Name.Value
	p.Password = req.Password.Value
	p.Role = req.Role.Value
	p.Visibility = req.Visibility.Value
	p.Status = req.Status.Value
	p.CustomerIDSet = req.CustomerID.Set
	p.CustomerID = req.CustomerID.Value
	return p, p.Validate()
}

func (h *Handler) deleteUser(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if err := h.svc.DisableUser(ctx, tx, tenant.MustFromContext(ctx), id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
