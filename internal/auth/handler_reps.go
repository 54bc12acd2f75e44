package auth

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
)

// salesRepResponse is a user a customer or location can be assigned to:
// who they are, not how to reach them or what they may do.
type salesRepResponse struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Role string    `json:"role"`
}

type salesRepListResponse struct {
	Items      []salesRepResponse `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

// listSalesReps answers GET /v1/sales-reps: the tenant's active staff by
// name, for showing and choosing the sales rep of customers and locations
// without users:manage (which lists e-mails, roles' reach and disabled
// accounts). A portal user, a customer's own login, is refused: the
// tenant's staff is not theirs to see.
func (h *Handler) listSalesReps(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	active := "active"
	users, next, err := h.userPage(c, limit, &active, func(actor *tenant.Principal) error {
		if actor.Visibility == tenant.VisibilityPortal {
			return httpapi.Forbidden("a portal user does not see the tenant's staff")
		}
		return nil
	}, database.ReadOnly)
	if err != nil {
		return err
	}
	resp := salesRepListResponse{Items: []salesRepResponse{}, NextCursor: next}
	for _, u := range users {
		if u.Role == RolePortal {
			continue
		}
		resp.Items = append(resp.Items, salesRepResponse{ID: u.ID, Name: u.Name, Role: u.Role})
	}
	return c.JSON(resp)
}
