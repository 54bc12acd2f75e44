package audit

import "github.com/customerhub/customerhub/internal/httpapi"

// OpenAPIFields implements httpapi.Documented: a change's values are the
// field's own, of whatever type the field has.
func (Change) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{
		"from": {Schema: httpapi.AnyJSON, Description: "The value before; null when there was none."},
		"to":   {Schema: httpapi.AnyJSON, Description: "The value after; null when there is none."},
	}
}
