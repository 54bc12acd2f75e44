package customer

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// RefreshReach recomputes who sees these customers by assignment (their
// reach: sales rep, location reps, grants) and copies it to every row that
// belongs to them, in tx (migration 000010). Row-level security reads
// reach, so every change to one of its sources calls this in the same
// transaction: a customer's sales rep, a location's rep override, a grant,
// a merge. Customers the caller cannot see are left as they are.
func RefreshReach(ctx context.Context, tx database.Tx, ids ...uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	if err := dbsqlc.New().CustomerReachRefresh(ctx, tx, ids); err != nil {
		return fmt.Errorf("refresh customer reach: %w", err)
	}
	return nil
}

// ReachForShare returns the reach a new row of the customer takes, and
// holds the customer's row FOR SHARE until tx ends, so that a refresh of
// its reach waits for the row to be written (and then reaches it too).
// ErrNotFound when the caller cannot see the customer.
func ReachForShare(ctx context.Context, tx database.Tx, id uuid.UUID) ([]uuid.UUID, error) {
	reach, err := dbsqlc.New().CustomerReachForShare(ctx, tx, dbsqlc.CustomerReachForShareParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read customer reach: %w", err)
	}
	return reach, nil
}
