// Package location manages customer locations: addresses with kinds,
// default billing and shipping, and per-location sales reps.
//
// Three rules hold across every write, each in the write's transaction:
//   - a customer has at most one default billing and one default shipping
//     location, and a default has the matching kind;
//   - the customer's city and country are those of its primary address (the
//     default billing location, else the default shipping one, else the
//     oldest), recomputed after every insert, update and delete;
//   - a location's sales rep sees the customer (row-level security reads a
//     trigger-kept mirror of sales_rep_id, see migration 000002).
package location

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"golang.org/x/text/language"

	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/validation"
)

// Sentinel errors.
var (
	ErrNotFound         = errors.New("location not found")
	ErrCustomerNotFound = errors.New("customer not found")
	ErrVersionMismatch  = errors.New("location version mismatch")
	ErrInUse            = errors.New("location used by orders")
	// ErrAssignNeeded refuses deleting a location through which another
	// user sees the customer (its rep override) to a user who may not
	// change sales reps: deleting it would cut that rep out.
	ErrAssignNeeded = errors.New("deleting another rep's location needs the right to assign reps")
)

// Location kinds.
const (
	KindBilling  = "billing"
	KindShipping = "shipping"
	KindContact  = "contact"
)

// Kinds lists the location kinds in the order a location's kinds are
// stored and shown.
var Kinds = []string{KindBilling, KindShipping, KindContact}

// Location is a location with the code and name of its customer, which
// every answer about a location carries.
type Location struct {
	dbsqlc.CustomerLocation
	Customer CustomerRef
}

// CustomerRef names a location's customer.
type CustomerRef struct {
	ID   uuid.UUID
	Code string
	Name string
}

// Change is a location before and after a write, for the audit trail.
type Change struct {
	Before Location
	After  Location
}

// Record is the writable part of a location. Server-owned fields (id,
// customer, version, timestamps) are not here.
type Record struct {
	Label           string
	Line1           string
	Line2           *string
	City            string
	Region          *string
	PostalCode      *string
	Country         string
	Phone           *string
	Kinds           []string
	DefaultBilling  bool
	DefaultShipping bool
	SalesRepID      *uuid.UUID
}

// HasKind reports whether the record has the kind.
func (r Record) HasKind(kind string) bool { return slices.Contains(r.Kinds, kind) }

func recordOf(l dbsqlc.CustomerLocation) Record {
	return Record{
		Label: l.Label, Line1: l.Line1, Line2: l.Line2, City: l.City, Region: l.Region, PostalCode: l.PostalCode,
		Country: l.Country, Phone: l.Phone, Kinds: l.Kinds, DefaultBilling: l.IsDefaultBilling,
		DefaultShipping: l.IsDefaultShipping, SalesRepID: l.SalesRepID,
	}
}

// Patch changes some fields of a Record. A nil pointer leaves the field
// alone; for nullable fields, Set with a nil value clears it.
type Patch struct {
	Label           *string
	Line1           *string
	Line2           patch.Field[string]
	City            *string
	Region          patch.Field[string]
	PostalCode      patch.Field[string]
	Country         *string
	Phone           patch.Field[string]
	Kinds           *[]string
	DefaultBilling  *bool
	DefaultShipping *bool
	SalesRepID      patch.Field[uuid.UUID]
}

// Apply applies the patch to r, validating and normalizing each field it
// sets, and reports every bad field. The phone is read in the location's
// country (the patched one, if the patch changes it), and a default flag
// must agree with the resulting kinds whichever of the two the patch
// changed.
func (p Patch) Apply(r *Record) error {
	var errs validation.Errors
	if p.Label != nil {
		r.Label = errs.Text("label", *p.Label, 1, 100)
	}
	if p.Line1 != nil {
		r.Line1 = errs.Text("line1", *p.Line1, 1, 200)
	}
	if p.Line2.Set {
		r.Line2 = optionalText(&errs, "line2", p.Line2.Value, 200)
	}
	if p.City != nil {
		r.City = errs.Text("city", *p.City, 1, 100)
	}
	if p.Region.Set {
		r.Region = optionalText(&errs, "region", p.Region.Value, 100)
	}
	if p.PostalCode.Set {
		r.PostalCode = optionalText(&errs, "postal_code", p.PostalCode.Value, 20)
	}
	if p.Country != nil {
		r.Country = ParseCountry(&errs, "country", *p.Country)
	}
	if p.Phone.Set {
		r.Phone = nil
		if p.Phone.Value != nil && strings.TrimSpace(*p.Phone.Value) != "" {
			v := errs.Phone("phone", *p.Phone.Value, r.Country)
			r.Phone = &v
		}
	}
	if p.Kinds != nil {
		r.Kinds = parseKinds(&errs, *p.Kinds)
	}
	if p.DefaultBilling != nil {
		r.DefaultBilling = *p.DefaultBilling
	}
	if p.DefaultShipping != nil {
		r.DefaultShipping = *p.DefaultShipping
	}
	if p.SalesRepID.Set {
		r.SalesRepID = p.SalesRepID.Value
	}
	if !errs.Has("kinds") {
		if r.DefaultBilling && !r.HasKind(KindBilling) {
			errs.Add("default_billing", "kind_missing", `the default billing location needs the kind "billing"`)
		}
		if r.DefaultShipping && !r.HasKind(KindShipping) {
			errs.Add("default_shipping", "kind_missing", `the default shipping location needs the kind "shipping"`)
		}
	}
	return errs.Err()
}

// CheckComplete reports required fields a create left out.
func (r Record) CheckComplete() error {
	var errs validation.Errors
	for _, f := range []struct{ name, value string }{
		{"label", r.Label}, {"line1", r.Line1}, {"city", r.City}, {"country", r.Country},
	} {
		if f.value == "" {
			errs.Add(f.name, "required", "must not be empty")
		}
	}
	if len(r.Kinds) == 0 {
		errs.Add("kinds", "required", "must name at least one of: "+strings.Join(Kinds, ", "))
	}
	return errs.Err()
}

// optionalText validates a nullable text field; blank means null.
func optionalText(errs *validation.Errors, field string, v *string, max int) *string {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil
	}
	s := errs.Text(field, *v, 0, max)
	return &s
}

// ParseCountry checks an ISO 3166-1 alpha-2 country code and returns it
// upper-cased and canonical (UK becomes GB, the code phone numbering and
// most systems use).
func ParseCountry(errs *validation.Errors, field, v string) string {
	v = strings.TrimSpace(v)
	invalid := func() string {
		errs.Add(field, "invalid_country", "must be an ISO 3166-1 alpha-2 country code such as US or DE")
		return v
	}
	if len(v) != 2 || !isASCIILetter(v[0]) || !isASCIILetter(v[1]) {
		return invalid()
	}
	r, err := language.ParseRegion(v)
	if err != nil || !r.IsCountry() {
		return invalid()
	}
	return r.Canonicalize().String()
}

func isASCIILetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// parseKinds checks a kinds list and returns it without duplicates, in the
// order of Kinds.
func parseKinds(errs *validation.Errors, kinds []string) []string {
	if len(kinds) == 0 {
		errs.Add("kinds", "required", "must name at least one of: "+strings.Join(Kinds, ", "))
		return nil
	}
	for _, k := range kinds {
		if !slices.Contains(Kinds, k) {
			errs.Add("kinds", "invalid_choice", strconv.Quote(k)+" is not a kind; use: "+strings.Join(Kinds, ", "))
			return nil
		}
	}
	out := make([]string, 0, len(Kinds))
	for _, k := range Kinds {
		if slices.Contains(kinds, k) {
			out = append(out, k)
		}
	}
	return out
}
