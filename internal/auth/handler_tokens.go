package auth

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
)

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
	in := TokenInput(req)
	if err := in.Validate(time.Now()); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	err := httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	err = httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		return h.svc.DeleteToken(ctx, tx, tenant.MustFromContext(ctx), id)
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
