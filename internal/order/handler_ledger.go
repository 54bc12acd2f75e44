package order

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/tenant"
)

type ledgerEntry struct {
	Type    string    `json:"type"`
	ID      uuid.UUID `json:"id"`
	Number  string    `json:"number"`
	Date    string    `json:"date"`
	Amount  string    `json:"amount"`
	Balance string    `json:"balance"`
	Status  *string   `json:"status"`
}

type ledgerResponse struct {
	Currency   string        `json:"currency"`
	Items      []ledgerEntry `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

func (h *Handler) ledger(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var after LedgerCursor
	lp, has, err := listParams(c, false, &after)
	if err != nil {
		return err
	}
	var afterP *LedgerCursor
	if has {
		afterP = &after
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		rows, currency, err := h.svc.Ledger(ctx, tx, id, lp.From, lp.To, afterP, lp.Limit)
		if err != nil {
			return err
		}
		resp := ledgerResponse{Currency: currency, Items: make([]ledgerEntry, 0, len(rows))}
		if limit := int(lp.Limit - 1); len(rows) > limit {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			next := httpapi.EncodeCursor(LedgerCursor{Date: last.EntryDate, Created: last.CreatedAt, ID: last.ID})
			resp.NextCursor = &next
		}
		for _, r := range rows {
			resp.Items = append(resp.Items, toLedgerEntry(r, currency))
		}
		return c.JSON(resp)
	}, database.ReadOnly, database.CustomPlans)
}

func toLedgerEntry(r dbsqlc.LedgerRow, currency string) ledgerEntry {
	e := ledgerEntry{Type: r.Kind, ID: r.ID, Number: r.Number, Date: r.EntryDate.Format(time.DateOnly),
		Amount: money.Format(r.Amount, currency), Balance: money.Format(r.RunningBalance, currency)}
	if r.Status != "" {
		s := r.Status
		e.Status = &s
	}
	return e
}
