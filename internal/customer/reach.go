package customer

import (
	"context"
	"fmt"

	"github.com/google/uuid"

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
