package customer

import (
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// InsertParams returns the arguments that store r as the customer id of
// the tenant: for writers that stage many customers at once (imports),
// reading the values field by field (fieldspec.Field.GoName).
func (r Record) InsertParams(tenantID, id uuid.UUID) dbsqlc.CustomerInsertParams {
	p := dbsqlc.CustomerInsertParams{TenantID: tenantID, ID: id}
	r.insertParams(&p)
	return p
}

// CheckRepRule is the part of a sales rep assignment's check that needs no
// query (the rep being an active user of the tenant is checked where the
// rep was found): the actor may assign reps (auth.CheckSalesRep), and an
// 'assigned' actor may only hold customers assigned to themselves.
func CheckRepRule(actor *tenant.Principal, creating bool, rep *uuid.UUID) error {
	if err := auth.CheckSalesRep(actor, creating, rep); err != nil {
		return err
	}
	if actor.Visibility == tenant.VisibilityAssigned && (rep == nil || *rep != actor.UserID) {
		return validation.Errors{{Field: "sales_rep_id", Code: "own_only", Message: "you can only hold customers assigned to yourself"}}
	}
	return nil
}
