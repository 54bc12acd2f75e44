package auth

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
)

// ---- roles -----------------------------------------------------------------

type createRoleRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Permissions []string `json:"permissions"`
}

type patchRoleRequest struct {
	Name        patch.Field[string]   `json:"name"`
	Description patch.Field[string]   `json:"description"`
	Permissions patch.Field[[]string] `json:"permissions"`
}

type roleListResponse struct {
	Items []roleResponse `json:"items"`
}

func (h *Handler) createRole(c *fiber.Ctx) error {
	var req createRoleRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in := RoleInput(req)
	if err := in.Validate(); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		r, err := h.svc.CreateRole(ctx, tx, tenant.MustFromContext(ctx), in)
		if err != nil {
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
	err := httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	err = httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	if err := patch.NotNull(req).Err(); err != nil {
		return err
	}
	rp := RolePatch{Name: req.Name.Value, Description: req.Description.Value, Permissions: req.Permissions.Value}
	if err := rp.Validate(); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		r, err := h.svc.UpdateRole(ctx, tx, tenant.MustFromContext(ctx), id, want, rp)
		if err != nil {
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if err := h.svc.DeleteRole(ctx, tx, tenant.MustFromContext(ctx), id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
