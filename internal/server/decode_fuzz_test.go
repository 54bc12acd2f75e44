package server_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/config"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/server"
)

// bodyRoutes returns the routes that read a JSON body, from the route
// table as serve builds it (connected to nothing, as customerhub openapi
// builds it), one per request type.
func bodyRoutes(tb testing.TB) []httpapi.Route {
	tb.Helper()
	cfg, err := config.Load(func(string) (string, bool) { return "", false })
	require.NoError(tb, err)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := server.New(server.Deps{Config: cfg, Logger: logger, Registry: prometheus.NewRegistry()})
	var out []httpapi.Route
	seen := map[reflect.Type]bool{}
	for _, r := range s.Routes {
		if r.Request == nil || r.RequestMedia != "" || seen[reflect.TypeOf(r.Request)] {
			continue
		}
		seen[reflect.TypeOf(r.Request)] = true
		out = append(out, r)
	}
	return out
}

// nullable is what every patch.Field is, whatever its value type.
type nullable interface {
	IsNull() bool
	JSONSchemaAlias() any
}

// reencode writes a decoded request back as JSON the way a client sends
// it: an absent patch.Field (the zero value) left out, a null one as
// null, a set one as its value. Request types are only ever decoded, so
// this encoder belongs to the test. (json hands the function a pointer to
// the Field.)
func reencode(v any) ([]byte, error) {
	field := json.MarshalToFunc(func(enc *jsontext.Encoder, f nullable) error {
		if f.IsNull() {
			return enc.WriteToken(jsontext.Null)
		}
		return json.MarshalEncode(enc, reflect.Indirect(reflect.ValueOf(f)).FieldByName("Value").Elem().Interface())
	})
	return json.Marshal(v, json.OmitZeroStructFields(true), json.WithMarshalers(field), json.Deterministic(true))
}

// bodyPaths lists the members and elements of a JSON body, as error
// fields name them (lines.0.sku), as far as the body is JSON at all.
func bodyPaths(body []byte) map[string]bool {
	paths := map[string]bool{}
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	for {
		if _, err := dec.ReadToken(); err != nil {
			return paths
		}
		p := strings.TrimPrefix(string(dec.StackPointer()), "/")
		p = strings.ReplaceAll(p, "/", ".")
		p = strings.ReplaceAll(p, "~1", "/")
		paths[strings.ReplaceAll(p, "~0", "~")] = true
	}
}

// FuzzDecodeJSON decodes arbitrary bodies into every request type of the
// API with the decoder the handlers use (httpapi.DecodeBody, what
// DecodeJSON does with the request's Content-Type and body): a refused
// body is a 400 (415 for another media type) naming a member of the body
// or the body itself; an accepted one writes back as JSON that decodes
// again to the same request.
func FuzzDecodeJSON(f *testing.F) {
	routes := bodyRoutes(f)
	index := func(key string) uint16 {
		for i, r := range routes {
			if r.Method+" "+r.Path == key {
				return uint16(i)
			}
		}
		f.Fatalf("no route %s with a JSON body", key)
		return 0
	}
	const ct = "application/json"
	for _, s := range []struct{ route, body string }{
		{"POST /v1/customers", `{"name":"Fuzz Co","code":"F-1","type":"individual","status":"dormant","phone":"+1 415 555 0101","sales_rep_id":null,"email":null}`},
		{"POST /v1/customers", `{"name":"Acme","discount_rate":"12.50","credit_limit":1e3,"groups":{"segment":"RETAIL","area":null},"custom":{"vip":true}}`},
		{"POST /v1/customers", `{"name":"a","name":"b"}`},
		{"POST /v1/customers", `{"NAME":"Acme"}`},
		{"POST /v1/customers", `{"name":"\ud800"}`},
		{"POST /v1/customers", `{"credit_period_days":"30"}`},
		{"POST /v1/customers", `{"sales_rep_id":"0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a","notes":null}`},
		{"POST /v1/customers", `{"sales_rep_id":"not-a-uuid"}`},
		{"PUT /v1/views/:name", `{"columns":["name","balance"],"filters":{"group.segment":"RETAIL"},"sort":"-balance"}`},
		{"POST /v1/customers/:id/locations", `{"label":"Head office","line1":"Jl. Merdeka 5","city":"Bandung","country":"ID","kinds":["billing","shipping"],"default_billing":true}`},
		{"POST /v1/customers/:id/locations", `{"kinds":"billing"}`},
		{"POST /v1/customer-groups", `{"category":"segment","code":"RETAIL","name":"Retail"}`},
		{"POST /v1/customer-groups", `{"category":"segment","code":"RETAIL","name":"Retail"} {}`},
		{"PATCH /v1/settings", `{"default_country":"ID","required_fields":["email"]}`},
		{"POST /v1/sms/templates", `{"name":"Reminder","body":"Hi {name}, you owe {balance} {currency}"}`},
		{"POST /v1/payment-terms", `{"code":"NET30","name":"Net 30","due_days":30}`},
		{"POST /v1/price-lists", `{"code":"WHOLESALE","name":"Wholesale","currency":"IDR"}`},
		{"POST /v1/price-lists", `{"code":"W","name":"W","currency":"IDR","tenant_id":"0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a"}`},
	} {
		f.Add(index(s.route), ct, []byte(s.body))
	}
	for i := range routes {
		for _, body := range []string{"", "null", " {} ", "[]", `"x"`, "{", `{"":1}`} {
			f.Add(uint16(i), ct, []byte(body))
		}
	}
	f.Add(uint16(0), "application/problem+json; charset=utf-8", []byte(`{}`))
	f.Add(uint16(0), "text/plain", []byte(`{}`))
	f.Add(uint16(0), "application/json; charset", []byte(`{}`))
	f.Fuzz(func(t *testing.T, route uint16, contentType string, body []byte) {
		r := routes[int(route)%len(routes)]
		typ := reflect.TypeOf(r.Request)
		v := reflect.New(typ)
		err := httpapi.DecodeBody(contentType, body, v.Interface())
		if err != nil {
			var he *httpapi.Error
			require.True(t, errors.As(err, &he), "%s: not an httpapi error: %v", typ, err)
			require.Contains(t, []int{http.StatusBadRequest, http.StatusUnsupportedMediaType}, he.Status, "%s: %v", typ, err)
			require.NotEmpty(t, he.Code)
			for _, fe := range he.Fields {
				require.NotEmpty(t, fe.Field, "%s: %v", typ, err)
				if fe.Code != "invalid_utf8" {
					require.True(t, bodyPaths(body)[fe.Field], "%s: %v names %q, no member of %q", typ, err, fe.Field, body)
				}
			}
			return
		}
		first, err := reencode(v.Interface())
		require.NoError(t, err, "%s: %+v", typ, v.Interface())
		again := reflect.New(typ)
		require.NoError(t, httpapi.DecodeBody("application/json", first, again.Interface()), "%s: %q written back as %s", typ, body, first)
		second, err := reencode(again.Interface())
		require.NoError(t, err)
		require.Equal(t, string(first), string(second), "%s: %q", typ, body)
	})
}
