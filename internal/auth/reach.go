package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// reach is what a user can get at: the permissions of their role and the
// customers they see. Nobody may give a user, role, grant or token more
// reach than their own, nor change a user who already has more
// (DESIGN.md section 8); checkReach is the one place that decides it.
type reach struct {
	permissions []string
	// visibility is the widest effective visibility: all, assigned,
	// portal, or "" for a role nobody holds.
	visibility string
	// customerID is a portal user's one customer.
	customerID *uuid.UUID
	// sightOf lists existing users whose customers, as seen with
	// visibility 'assigned' (as sales rep, location rep or by grant), are
	// part of the reach.
	sightOf []uuid.UUID
}

// visibilityRank orders visibilities by how many customers they show:
// portal < assigned < all.
func visibilityRank(v string) int {
	switch v {
	case "":
		return -1
	case tenant.VisibilityPortal:
		return 0
	case tenant.VisibilityAssigned:
		return 1
	case tenant.VisibilityAll:
		return 2
	}
	return 3 // unknown: wider than any, so never covered
}

// narrower returns the narrower of two visibilities.
func narrower(a, b string) string {
	if visibilityRank(b) < visibilityRank(a) {
		return b
	}
	return a
}

// BeyondReachError refuses what would give or change more reach than the
// acting user's own: a role with permissions they do not hold, a
// visibility wider than theirs, customers they do not see, or a change to
// a user, role or grant that already reaches further. Fields name what
// reaches too far.
type BeyondReachError struct {
	Fields validation.Errors
}

func (e *BeyondReachError) Error() string {
	return "beyond the acting user's reach: " + e.Fields.Error()
}

// SelfError refuses a change of one's own role, visibility, status,
// customer link or grants; it matches ErrSelf. Field names what was to
// change.
type SelfError struct {
	Field string
}

func (e *SelfError) Error() string { return fmt.Sprintf("%s: %v", e.Field, ErrSelf) }

// Is makes errors.Is(err, ErrSelf) hold.
func (e *SelfError) Is(target error) bool { return target == ErrSelf }

// reachCheck says how checkReach words its refusal.
type reachCheck struct {
	// permField names the field of the permissions: "role" for users,
	// "permissions" for roles.
	permField string
	// existing is true when the reach is the current one of a user or
	// role the actor wants to change, rather than one they want to give.
	existing bool
}

// checkReach returns a *BeyondReachError unless the actor's reach covers
// target: its permissions are among the actor's, its visibility is no
// wider, a portal user's customer is one the actor sees, and so is every
// customer the users of sightOf see. Customers are read through row-level
// security in tx, the request's own transaction, so "sees" means exactly
// what the actor's queries see; a customer that does not exist and one the
// actor cannot see get the same answer.
func (s *Service) checkReach(ctx context.Context, tx database.Tx, actor *tenant.Principal, target reach, how reachCheck) error {
	var errs validation.Errors
	if !covers(actor.Permissions, target.permissions) {
		msg := "you cannot give permissions you do not hold"
		if how.existing {
			msg = "you cannot change a user or role with permissions you do not hold"
		}
		errs.Add(how.permField, "role_too_strong", msg)
	}
	if visibilityRank(target.visibility) > visibilityRank(actor.Visibility) {
		msg := "you cannot give a visibility wider than your own (" + actor.Visibility + ")"
		if how.existing {
			msg = "you cannot change a user who sees more customers than you (visibility " + target.visibility + ")"
		}
		errs.Add("visibility", "visibility_too_wide", msg)
	}
	if target.visibility == tenant.VisibilityPortal && target.customerID != nil {
		_, err := s.q.CustomerGetByID(ctx, tx, dbsqlc.CustomerGetByIDParams{TenantID: tx.TenantID(), ID: *target.customerID})
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			errs.Add("customer_id", "not_found", "no such customer")
		case err != nil:
			return fmt.Errorf("get customer: %w", err)
		}
	}
	// With visibility 'all' the actor sees every customer of the tenant.
	if len(errs) == 0 && len(target.sightOf) > 0 && actor.Visibility != tenant.VisibilityAll &&
		visibilityRank(target.visibility) >= visibilityRank(tenant.VisibilityAssigned) {
		beyond, err := s.seesBeyond(ctx, tx, target.sightOf)
		if err != nil {
			return err
		}
		if beyond {
			errs.Add("visibility", "customers_beyond_reach", "the user sees customers you do not")
		}
	}
	if len(errs) > 0 {
		return &BeyondReachError{Fields: errs}
	}
	return nil
}

// userReach is the reach of an existing user with role r.
func userReach(u dbsqlc.User, r resolvedRole) reach {
	rc := reach{permissions: r.permissions, visibility: r.effectiveVisibility(u.Visibility), sightOf: []uuid.UUID{u.ID}}
	if rc.visibility == tenant.VisibilityPortal {
		rc.customerID = u.CustomerID
	}
	return rc
}

// CheckManage reports whether the actor may change what the user can
// reach (their grants): ErrUserNotFound for no such user of the tenant, a
// *SelfError for the actor themselves, a *BeyondReachError for a user whose
// reach the actor's does not cover.
func (s *Service) CheckManage(ctx context.Context, tx database.Tx, actor *tenant.Principal, userID uuid.UUID, field string) error {
	u, err := s.q.UserGetByIDForUpdate(ctx, tx, dbsqlc.UserGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: userID})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("lock user: %w", err)
	}
	if u.ID == actor.UserID {
		return &SelfError{Field: field}
	}
	r, err := s.roleOf(ctx, tx, u)
	if err != nil {
		return err
	}
	return s.checkReach(ctx, tx, actor, userReach(u, r), reachCheck{permField: "role", existing: true})
}

// seesBeyond reports whether the users, with visibility 'assigned', see a
// customer the caller does not: their customers come from outside the
// caller's scope (assigned_customer_ids), the caller's sight is the
// customers policy itself.
func (s *Service) seesBeyond(ctx context.Context, tx database.Tx, users []uuid.UUID) (bool, error) {
	ids, err := s.q.UsersAssignedCustomerIDs(ctx, tx, users)
	if err != nil {
		return false, fmt.Errorf("customers the users see: %w", err)
	}
	if len(ids) == 0 {
		return false, nil
	}
	seen, err := s.q.CustomersVisibleCount(ctx, tx, dbsqlc.CustomersVisibleCountParams{TenantID: tx.TenantID(), Ids: ids})
	if err != nil {
		return false, fmt.Errorf("customers the caller sees: %w", err)
	}
	return seen < int64(len(ids)), nil
}
