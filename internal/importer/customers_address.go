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
	"github.com/customerhub/customerhub/internal/patch"
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
	given := func(n patch.Field[string]) bool { return n.Set && n.Value != nil }
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

// newDefaults reports whether the row's addresses become the default
// locations of a customer it creates, added together for the batch
// (ImportLocationsInsert): a new customer has no location, no default to
// move, and its city and country were inserted with it; an address that
// names a sales rep of its own goes through the location service.
func (cr *custRow) newDefaults() bool {
	if cr.existing != nil {
		return false
	}
	for _, a := range cr.addrs {
		if a.existing != nil || a.after.SalesRepID != nil {
			return false
		}
	}
	return true
}

// primaryAddress is the address that gives a created customer its city
// and country (the default billing location, else the default shipping
// one, as LocationSyncCustomerAddress chooses); nil when the row's
// addresses are not added as new defaults.
func (cr *custRow) primaryAddress() *address {
	if !cr.newDefaults() {
		return nil
	}
	var p *address
	for _, a := range cr.addrs {
		if a.after.DefaultBilling || (p == nil && a.after.DefaultShipping) {
			p = a
		}
	}
	return p
}

// writeAddresses writes the changed addresses of the written customers:
// a created customer's default locations all in one statement, any other
// through the location service (its rules on defaults and on the
// customer's primary address hold).
func (t *custTable) writeAddresses(ctx context.Context, tx database.Tx, actor *tenant.Principal, written []*row) error {
	p := dbsqlc.ImportLocationsInsertParams{TenantID: tx.TenantID()}
	for _, r := range written {
		cr := r.val.(*custRow)
		if !cr.newDefaults() {
			continue
		}
		for _, a := range cr.addrs {
			kind := location.KindBilling
			if !a.after.HasKind(kind) {
				kind = location.KindShipping
			}
			p.Ids = append(p.Ids, uuid.Must(uuid.NewV7()))
			p.CustomerIds = append(p.CustomerIds, cr.id)
			p.Labels = append(p.Labels, a.after.Label)
			p.Line1s = append(p.Line1s, a.after.Line1)
			p.Line2s = append(p.Line2s, deref(a.after.Line2))
			p.Cities = append(p.Cities, a.after.City)
			p.Regions = append(p.Regions, deref(a.after.Region))
			p.PostalCodes = append(p.PostalCodes, deref(a.after.PostalCode))
			p.Countries = append(p.Countries, a.after.Country)
			p.Phones = append(p.Phones, deref(a.after.Phone))
			p.Kinds = append(p.Kinds, kind)
			p.DefaultBilling = append(p.DefaultBilling, a.after.DefaultBilling)
			p.DefaultShipping = append(p.DefaultShipping, a.after.DefaultShipping)
		}
	}
	if len(p.Ids) > 0 {
		got, err := dbsqlc.New().ImportLocationsInsert(ctx, tx, p)
		if err != nil {
			return fmt.Errorf("insert default locations: %w", err)
		}
		if len(got) != len(p.Ids) {
			return fmt.Errorf("insert default locations: %d of %d added", len(got), len(p.Ids))
		}
	}
	for _, r := range written {
		cr := r.val.(*custRow)
		if cr.newDefaults() {
			continue
		}
		for _, a := range cr.addrs {
			if !a.changed {
				continue
			}
			var err error
			if a.existing != nil {
				err = t.svc.locations.UpdateFromImport(ctx, tx, actor, a.existing.ID, precondition.Any(), a.patch)
			} else {
				err = t.svc.locations.CreateFromImport(ctx, tx, actor, cr.id, a.patch)
			}
			if err != nil {
				return fmt.Errorf("write the %s address of row %d: %w", a.kind, r.num, err)
			}
		}
	}
	return nil
}
