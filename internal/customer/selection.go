package customer

import (
	"context"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// CheckSelection validates a selection of customers as a bulk update's
// (exactly one of ids and filter; the filter as the list's query string)
// and normalizes it. Other domains (SMS campaigns) select customers the
// same way.
func CheckSelection(sel *jobs.Selection) validation.Errors {
	return sel.Check(checkFilter)
}

// SelectTargets evaluates a checked selection as the actor sees the
// customers into the job's targets (table job_targets), as a bulk update's
// first step does, and returns how many there are.
func (s *Service) SelectTargets(ctx context.Context, tx database.Tx, actor *tenant.Principal, jobID uuid.UUID, sel jobs.Selection) (int64, error) {
	env, err := s.Env(ctx, tx)
	if err != nil {
		return 0, err
	}
	return s.bulkSelect(ctx, tx, actor, env, jobID, sel)
}
