// Package customer manages the customer master: the customer record, its
// validation, and list and search. Visibility (sales reps see their own
// accounts, portal users their one account) is enforced by row-level
// security; the queries also state it so the planner can use the indexes.
package customer

import (
	"errors"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/validation"
)

// Sentinel errors.
var (
	ErrNotFound        = errors.New("customer not found")
	ErrCodeTaken       = errors.New("customer code already used")
	ErrVersionMismatch = errors.New("customer version mismatch")
	ErrReferenced      = errors.New("customer still referenced")
)

// Field values.
var (
	Types    = []string{"individual", "company"}
	Statuses = []string{"active", "dormant", "inactive"}
)

// Record is the writable part of a customer: what create sets and what a
// patch changes. Server-owned fields (id, version, figures) are not here.
type Record struct {
	Code       string
	Name       string
	Type       string
	Email      *string
	Phone      *string
	SalesRepID *uuid.UUID
	Status     string
}

// Patch changes some fields of a Record. A nil pointer leaves the field
// alone; for nullable fields, Set with a nil value clears it.
type Patch struct {
	Code       *string
	Name       *string
	Type       *string
	Email      Nullable[string]
	Phone      Nullable[string]
	SalesRepID Nullable[uuid.UUID]
	Status     *string
}

// Nullable is a patch to a nullable field.
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// Env is what validation needs to know about the tenant.
type Env struct {
	DefaultCountry string
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$`)

// Apply applies the patch to r, validating and normalizing each field it
// sets, and reports every bad field.
func (p Patch) Apply(r *Record, env Env) error {
	var errs validation.Errors
	if p.Code != nil {
		v := strings.TrimSpace(*p.Code)
		if !codeRE.MatchString(v) {
			errs.Add("code", "invalid_code", "must be 1 to 32 letters, digits or . _ / -, starting with a letter or digit")
		}
		r.Code = v
	}
	if p.Name != nil {
		r.Name = errs.Text("name", *p.Name, 1, 200)
	}
	if p.Type != nil {
		errs.OneOf("type", *p.Type, Types...)
		r.Type = *p.Type
	}
	if p.Status != nil {
		errs.OneOf("status", *p.Status, Statuses...)
		r.Status = *p.Status
	}
	if p.Email.Set {
		r.Email = nil
		if p.Email.Value != nil && strings.TrimSpace(*p.Email.Value) != "" {
			v := errs.Email("email", *p.Email.Value)
			r.Email = &v
		}
	}
	if p.Phone.Set {
		r.Phone = nil
		if p.Phone.Value != nil && strings.TrimSpace(*p.Phone.Value) != "" {
			v := errs.Phone("phone", *p.Phone.Value, env.DefaultCountry)
			r.Phone = &v
		}
	}
	if p.SalesRepID.Set {
		r.SalesRepID = p.SalesRepID.Value
	}
	return errs.Err()
}

// NewRecord is the record a create starts from before its patch applies.
func NewRecord() Record {
	return Record{Type: "company", Status: "active"}
}

// CheckComplete reports required fields a create left empty.
func (r Record) CheckComplete() error {
	var errs validation.Errors
	if r.Name == "" {
		errs.Add("name", "required", "must not be empty")
	}
	return errs.Err()
}
