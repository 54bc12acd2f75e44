package importer

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/location"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// address is what a row does to one of its customer's default addresses:
// the location it changes (nil: a new one) and its record after the row.
type address struct {
	kind     string // location.KindBilling or KindShipping
	patch    location.Patch
	existing *dbsqlc.CustomerLocation
	after    location.Record
	changed  bool
}

// locationRecord is a stored location as location.Patch applies to it.
func locationRecord(l dbsqlc.CustomerLocation) location.Record {
	return location.Record{Label: l.Label, Line1: l.Line1, Line2: l.Line2, City: l.City, Region: l.Region,
		PostalCode: l.PostalCode, Country: l.Country, Phone: l.Phone, Kinds: l.Kinds,
		DefaultBilling: l.IsDefaultBilling, DefaultShipping: l.IsDefaultShipping, SalesRepID: l.SalesRepID}
}

// addresses checks the rows' billing and shipping addresses against the
// customers' default locations (read for the batch in one query): each
// becomes a change of the default location, or a new default location,
// validated by location.Patch.Apply as the API validates one. A bad part
// fails the row under its column.
func (t *custTable) addresses(ctx context.Context, tx database.Tx, rows []*row) error {
	var ids []uuid.UUID
	for _, r := range rows {
		cr := r.val.(*custRow)
		if cr.existing != nil && (cr.row.Billing != nil || cr.row.Shipping != nil) {
			ids = append(ids, cr.id)
		}
	}
	defaults := map[uuid.UUID][]dbsqlc.CustomerLocation{}
	if len(ids) > 0 {
		locs, err := dbsqlc.New().LocationDefaultsForCustomers(ctx, tx, dbsqlc.LocationDefaultsForCustomersParams{TenantID: tx.TenantID(), CustomerIds: ids})
		if err != nil {
			return fmt.Errorf("read default locations: %w", err)
		}
		for _, l := range locs {
			defaults[l.CustomerID] = append(defaults[l.CustomerID], l)
		}
	}
	for _, r := range rows {
		cr := r.val.(*custRow)
		cr.addrs = nil
		for _, a := range []struct {
			kind  string
			patch *location.Patch
		}{{location.KindBilling, cr.row.Billing}, {location.KindShipping, cr.row.Shipping}} {
			if a.patch == nil {
				continue
			}
			ad := &address{kind: a.kind, patch: *a.patch}
			for i := range defaults[cr.id] {
				l := &defaults[cr.id][i]
				if (a.kind == location.KindBilling && l.IsDefaultBilling) || (a.kind == location.KindShipping && l.IsDefaultShipping) {
					ad.existing = l
				}
			}
			var errs error
			if ad.existing == nil && blankAddress(ad.patch) {
				// Empty address cells and no address: nothing to create.
				continue
			}
			if ad.existing != nil {
				ad.after = locationRecord(*ad.existing)
				errs = ad.patch.Apply(&ad.after)
				ad.changed = !reflect.DeepEqual(ad.after, locationRecord(*ad.existing))
			} else {
				label := "Billing address"
				if a.kind == location.KindShipping {
					label = "Shipping address"
				}
				yes := true
				ad.patch.Label, ad.patch.Kinds = &label, &[]string{a.kind}
				if a.kind == location.KindBilling {
					ad.patch.DefaultBilling = &yes
				} else {
					ad.patch.DefaultShipping = &yes
				}
				errs = errors.Join(ad.patch.Apply(&ad.after), ad.after.CheckComplete())
				ad.changed = true
			}
			var ve validation.Errors
			for _, e := range flatten(errs) {
				if errors.As(e, &ve) {
					for _, fe := range ve {
						fe.Field = a.kind + "." + fe.Field
						t.failField(r, cr, fe)
					}
				} else if e != nil {
					return e
				}
			}
			cr.addrs = append(cr.addrs, ad)
		}
	}
	return nil
}

// blankAddress reports whether a patch gives no value at all (its cells
// were empty).
func blankAddress(p location.Patch) bool {
	given := func(n location.Nullable[string]) bool { return n.Set && n.Value != nil }
	return p.Line1 == nil && p.City == nil && p.Country == nil && !given(p.Line2) && !given(p.Region) &&
		!given(p.PostalCode) && !given(p.Phone)
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// addressesChanged reports whether the row changes an address.
func (cr *custRow) addressesChanged() bool {
	for _, a := range cr.addrs {
		if a.changed {
			return true
		}
	}
	return false
}

// writeAddresses writes the changed addresses of the written customers
// through the location service (its rules on defaults and on the
// customer's primary address hold).
func (t *custTable) writeAddresses(ctx context.Context, tx database.Tx, actor *tenant.Principal, written []*row) error {
	for _, r := range written {
		cr := r.val.(*custRow)
		for _, a := range cr.addrs {
			if !a.changed {
				continue
			}
			var err error
			if a.existing != nil {
				_, _, err = t.svc.locations.Update(ctx, tx, actor, a.existing.ID, precondition.Any(), a.patch)
			} else {
				_, _, err = t.svc.locations.Create(ctx, tx, actor, cr.id, a.patch)
			}
			if err != nil {
				return fmt.Errorf("write the %s address of row %d: %w", a.kind, r.num, err)
			}
		}
	}
	return nil
}
