package order

import (
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// OpenAPIFields implements httpapi.Documented.
func (orderRequest) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"order_date": {Format: "date"}}
}

// OpenAPIFields implements httpapi.Documented.
func (orderPatchRequest) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"order_date": {Format: "date"}}
}

// OpenAPIFields implements httpapi.Documented.
func (orderResponse) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"status": {Enum: Statuses}}
}

// OpenAPIFields implements httpapi.Documented.
func (paymentRequest) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{"method": {Enum: customer.PaymentMethods},
		"received_at": {Description: "A date, or an RFC 3339 time."}}
}
