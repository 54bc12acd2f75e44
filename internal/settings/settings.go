// Package settings manages per-tenant settings (required customer fields,
// default country and currency, credit policy) and custom field
// definitions, and validates custom field values.
package settings
