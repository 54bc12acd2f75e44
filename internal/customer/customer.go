// Package customer manages the customer master: the customer record and
// its validation, group memberships and effective (fallback) values,
// contacts, list search/filter/sort, and saved list views. Visibility
// (sales reps see their own accounts, portal users their one account) is
// enforced by row-level security; the list query also states it so the
// planner can use the indexes.
//
// # One specification of the fields
//
// A customer's writable fields are specified once, in
// fieldspec.Customer: name, column, kind, and a few rules. Everything
// that lists the fields is generated from it by go generate (./gen writes
// fields_gen.go): Record, Patch, the API's request and response types and
// their conversions, the fields= list, the per-field validation calls of
// Apply, the required-field check, the database arguments of insert and
// update, merge's fill rules (FillEmpty) and the spreadsheet accessors
// (Accessors, from which package importer derives the import and export
// columns). settings.RequirableFields is read from the specification too.
//
// Generated rather than a table of closures over reflection, because the
// types must exist for the compiler: the OpenAPI description is reflected
// from the request and response structs (so it stays true without a
// description of its own), the strict JSON decoder decodes into them, and
// the request path runs plain field assignments with no reflection of
// ours. What a kind of field means (its validation, how it is shown, how
// a cell reads it) is hand-written once per kind in fields.go; the
// generated code calls those functions field by field.
//
// To add a field:
//  1. a migration adding the column to customers;
//  2. its entry in fieldspec.Customer (where it sits is where the API
//     shows it and the spreadsheet template places it);
//  3. the column in CustomerInsert and CustomerUpdate in
//     queries/customers.sql, then make generate and go generate
//     ./internal/customer.
//
// TestSpecificationMatchesTable fails until the spec and the table agree,
// and TestGeneratedFieldsCurrent until fields_gen.go is regenerated. A
// field of a new kind also needs its functions in fields.go (and the
// generator's switch).
package customer

import (
	"errors"
	"regexp"

	"github.com/customerhub/customerhub/internal/settings"
)

// Sentinel errors.
var (
	ErrNotFound        = errors.New("customer not found")
	ErrCodeTaken       = errors.New("customer code already used")
	ErrVersionMismatch = errors.New("customer version mismatch")
	ErrHasHistory      = errors.New("customer has history")
	ErrContactNotFound = errors.New("contact not found")
	ErrViewNotFound    = errors.New("view not found")
)

var (
	codeRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$`)
	taxNumberRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ./-]{0,63}$`)
)

// Apply applies the patch to r, validating and normalizing each field it
// sets, then checks the record as a whole (required fields, custom
// fields) against the tenant's settings. It reports every bad field.
func (p Patch) Apply(r *Record, env settings.Env) error {
	a := &applier{env: env}
	p.applyFields(a, r)
	errs := a.errs
	if len(p.Custom) > 0 || len(env.Fields) > 0 {
		custom, cerrs := env.ApplyCustom(r.Custom, p.Custom)
		errs = append(errs, cerrs...)
		r.Custom = custom
	}
	if r.Name == "" && !errs.Has("name") {
		errs.Add("name", "required", "must not be empty")
	}
	for _, f := range env.Settings.RequiredFields {
		if !errs.Has(f) && r.isEmpty(f) {
			errs.Add(f, "required", "is required by this tenant's settings")
		}
	}
	return errs.Err()
}
