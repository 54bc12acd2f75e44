package customer

import (
	"github.com/customerhub/customerhub/internal/customer/fieldspec"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// What the OpenAPI description says of the customer bodies beyond their Go
// types: the enums and formats come from the field specification that
// validates the same members, so the two cannot disagree.

// customValues is a custom field's value: text, number, date (as text),
// bool or a select's option; null clears it.
var customValues = map[string]any{
	"type": "object", "description": "Custom field values by key (GET /v1/settings/fields).",
	"additionalProperties": httpapi.AnyOf("string", "number", "boolean", "null"),
}

func specDocs() map[string]httpapi.FieldDoc {
	docs := map[string]httpapi.FieldDoc{}
	for _, f := range fieldspec.Customer {
		var d httpapi.FieldDoc
		switch f.Kind {
		case fieldspec.Enum:
			d.Enum = f.Values
		case fieldspec.Email:
			d.Format = "email"
		case fieldspec.Date:
			d.Format = "date"
		default:
			continue
		}
		docs[f.Name] = d
	}
	return docs
}

// OpenAPIFields implements httpapi.Documented.
func (customerRequest) OpenAPIFields() map[string]httpapi.FieldDoc {
	docs := specDocs()
	docs["custom"] = httpapi.FieldDoc{Schema: customValues}
	return docs
}

// OpenAPIFields implements httpapi.Documented.
func (customerResponse) OpenAPIFields() map[string]httpapi.FieldDoc {
	docs := specDocs()
	docs["custom"] = httpapi.FieldDoc{Schema: customValues}
	return docs
}

// OpenAPIFields implements httpapi.Documented.
func (customerListResponse) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"items": {Like: []customerResponse{},
		Description: "Customers as GET /v1/customers/{id} shows them; with fields=, only the members asked for."}}
}

// OpenAPIFields implements httpapi.Documented.
func (dormantPreviewResponse) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"items": {Like: []customerResponse{}}}
}

// OpenAPIFields implements httpapi.Documented.
func (effectiveValue) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{
		"value": {Schema: httpapi.AnyOf("string", "integer", "null"),
			Description: "The value that applies: an id, an amount or rate as decimal text, a number of days, a code; null when none."},
		"source": {Enum: []string{SourceCustomer, SourceGroup, SourceTenant, SourceNone}},
	}
}
