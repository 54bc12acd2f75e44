package customer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/settings"
)

// BenchmarkRequestPath: one create's work outside the database, all of
// it generated from the field specification or called from that code: decode
// the body, turn it into a patch, validate and apply it, show the result.
func BenchmarkRequestPath(b *testing.B) {
	body := []byte(`{"code":"C-1","name":"PT Sinar Jaya","kind":"customer","type":"company","contact_name":"Budi",
"email":"budi@sinar.co.id","phone":"+62 812 3456 7890","website":"sinar.co.id","tax_number":"01.234.567.8-901.000",
"currency":"IDR","discount_rate":"12.5","payment_terms_id":"0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a",
"default_payment_method":"bank_transfer","tax_scheme":"PPN","credit_limit":"150000.25","credit_period_days":45,
"credit_policy":"warn","billing_status":"current","basis_date":"2026-03-31","status":"active","notes":"hello"}`)
	env := settings.Env{Settings: settings.Settings{DefaultCountry: "ID", DefaultCurrency: "IDR", DefaultCreditPolicy: "warn"}}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		var req customerRequest
		if err := httpapi.Unmarshal(body, &req); err != nil {
			b.Fatal(err)
		}
		p, err := req.toPatch()
		if err != nil {
			b.Fatal(err)
		}
		r := NewRecord()
		if err := p.Apply(&r, env); err != nil {
			b.Fatal(err)
		}
		c := dbsqlc.Customer{ID: uuid.New(), Code: r.Code, Name: r.Name, Kind: r.Kind, Type: r.Type, ContactName: r.ContactName,
			Email: r.Email, Phone: r.Phone, Website: r.Website, TaxNumber: r.TaxNumber, Currency: r.Currency,
			DiscountRate: r.DiscountRate, PaymentTermsID: r.PaymentTermsID, DefaultPaymentMethod: r.DefaultPaymentMethod,
			TaxScheme: r.TaxScheme, CreditLimit: r.CreditLimit, CreditPeriodDays: r.CreditPeriodDays, CreditPolicy: r.CreditPolicy,
			BillingStatus: r.BillingStatus, BasisDate: r.BasisDate, Status: r.Status, Notes: r.Notes, Custom: r.Custom}
		if _, err := json.Marshal(toCustomerResponse(Detail{Customer: c}, env, now)); err != nil {
			b.Fatal(err)
		}
	}
}
