// Package patch holds Field, one member of a create or PATCH body with its
// three states: absent (leave the stored value alone), null (clear it) or
// a value. Request types decode into it and the domain patches carry it
// into the services, so it lives in this leaf package: no Fiber, nothing
// of the database.
package patch

import (
	"reflect"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/customerhub/customerhub/internal/validation"
)

// Field is a patch to one value: Set tells whether the member was given,
// and Value is nil when it was null (or absent). Value is what a nullable
// column takes: nil leaves it or clears it, as Set says.
type Field[T any] struct {
	Set   bool
	Value *T
}

// Of returns a Field setting v.
func Of[T any](v T) Field[T] { return Field[T]{Set: true, Value: &v} }

// Null returns a Field clearing the value.
func Null[T any]() Field[T] { return Field[T]{Set: true} }

// JSONSchemaAlias makes the OpenAPI document's reflector
// (invopop/jsonschema, in internal/httpapi) describe a Field by its value
// type; httpapi adds the null and the optional member.
func (Field[T]) JSONSchemaAlias() any { return new(T) }

// IsNull reports whether the member was sent as null.
func (f Field[T]) IsNull() bool { return f.Set && f.Value == nil }

// Or returns the value, or def when the field is absent or null.
func (f Field[T]) Or(def T) T {
	if f.Value == nil {
		return def
	}
	return *f.Value
}

// UnmarshalJSONFrom implements the json v2 decoder hook, so the strict
// options of the surrounding decode (httpapi.DecodeJSON) apply to the value
// too. It is only called for a member that is present.
func (f *Field[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	f.Set = true
	f.Value = nil
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return err
	}
	v := new(T)
	if err := json.UnmarshalDecode(dec, v); err != nil {
		return err
	}
	f.Value = v
	return nil
}

// nullable is what every Field is, whatever its T.
type nullable interface{ IsNull() bool }

// NotNull reports a "must not be null" error for each Field member of the
// request struct req that was given as null, named as its json tag names
// it, in the struct's order. A member that may be null (null clears it)
// says so with the tag patch:"nullable".
func NotNull(req any) validation.Errors {
	v := reflect.Indirect(reflect.ValueOf(req))
	var errs validation.Errors
	// VisibleFields: the members of an embedded request struct count as
	// the request's own, as they do in its JSON.
	for _, sf := range reflect.VisibleFields(v.Type()) {
		if sf.Anonymous || !sf.IsExported() || sf.Tag.Get("patch") == "nullable" {
			continue
		}
		f, ok := v.FieldByIndex(sf.Index).Interface().(nullable)
		if !ok || !f.IsNull() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" {
			name = sf.Name
		}
		errs.Add(name, "not_nullable", "must not be null")
	}
	return errs
}
