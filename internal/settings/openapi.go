package settings

import "github.com/customerhub/customerhub/internal/httpapi"

// OpenAPIFields implements httpapi.Documented.
func (patchSettingsRequest) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"default_credit_policy": {Enum: CreditPolicies}}
}

// OpenAPIFields implements httpapi.Documented.
func (createFieldRequest) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"type": {Enum: FieldTypes}}
}

// OpenAPIFields implements httpapi.Documented.
func (fieldResponse) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"type": {Enum: FieldTypes}}
}

// OpenAPIFields implements httpapi.Documented.
func (settingsResponse) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"default_credit_policy": {Enum: CreditPolicies}}
}
