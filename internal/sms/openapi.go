package sms

import "github.com/customerhub/customerhub/internal/httpapi"

// OpenAPIFields implements httpapi.Documented: attempts are stored as JSON
// and sent as they are, in Attempt's shape.
func (messageResponse) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"attempts": {Like: []Attempt{}}}
}
