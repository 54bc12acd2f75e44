package customer

import (
	"encoding/base64"
	"errors"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/httpapi"
)

// Fuzz targets of the list's query parser and its cursor. They are pure:
// no database (the package's TestMain still makes one, unused here). A
// plain go test runs the seeds; make fuzz runs each for FUZZTIME.

// pgText reports whether PostgreSQL can take s as text: valid UTF-8
// without NUL. Anything ParseList or a cursor accepts goes into a query.
func pgText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// queryValues reads a raw query string as the list handler sees it: one
// value a name, the last one kept (checkQuery refuses a repeated name
// first). A malformed pair is dropped, as fasthttp drops it.
func queryValues(query string) map[string]string {
	form, _ := url.ParseQuery(query)
	values := map[string]string{}
	for k, vs := range form {
		values[k] = vs[len(vs)-1]
	}
	return values
}

// listValues writes a parsed list back as query parameters: the sort,
// statuses and filters it holds, times in RFC 3339 (so last_order_to is
// the exclusive bound ParseList made of a date).
func listValues(lp ListParams) map[string]string {
	v := map[string]string{"sort": lp.Sort, "status": strings.Join(lp.Statuses, ",")}
	text := func(name string, p *string) {
		if p != nil {
			v[name] = *p
		}
	}
	id := func(name string, p *uuid.UUID) {
		if p != nil {
			v[name] = p.String()
		}
	}
	boolean := func(name string, p *bool) {
		if p != nil {
			v[name] = strconv.FormatBool(*p)
		}
	}
	date := func(name string, p *time.Time) {
		if p != nil {
			v[name] = p.Format(time.RFC3339Nano)
		}
	}
	text("q", lp.Q)
	text("type", lp.Type)
	text("kind", lp.Kind)
	text("billing_status", lp.BillingStatus)
	text("country", lp.Country)
	id("sales_rep_id", lp.SalesRepID)
	id("payment_terms_id", lp.PaymentTermsID)
	boolean("has_balance", lp.HasBalance)
	boolean("has_credit", lp.HasCredit)
	boolean("overdue", lp.Overdue)
	boolean("engaged", lp.Engaged)
	date("last_order_from", lp.LastOrderFrom)
	date("last_order_to", lp.LastOrderTo)
	for k, code := range lp.Groups {
		v["group."+k] = code
	}
	for k, s := range lp.Custom {
		v["custom."+k] = s
	}
	return v
}

// requireSameList compares two parsed lists, times by instant and offset
// (a parsed +00:00 may carry time.Local, a parsed Z time.UTC).
func requireSameList(t *testing.T, want, got ListParams) {
	t.Helper()
	for _, p := range []struct{ want, got **time.Time }{{&want.LastOrderFrom, &got.LastOrderFrom}, {&want.LastOrderTo, &got.LastOrderTo}} {
		require.Equal(t, *p.want == nil, *p.got == nil)
		if *p.want != nil {
			_, wo := (*p.want).Zone()
			_, gotOffset := (*p.got).Zone()
			require.True(t, (*p.want).Equal(**p.got) && wo == gotOffset, "%v became %v", *p.want, *p.got)
		}
		*p.want, *p.got = nil, nil
	}
	require.Equal(t, want, got)
}

// requireNamesParam checks that err is a 400 naming param alone.
func requireNamesParam(t *testing.T, err error, param string) {
	t.Helper()
	var he *httpapi.Error
	require.True(t, errors.As(err, &he), "not an httpapi error: %v", err)
	require.Equal(t, 400, he.Status, "%v", err)
	require.Len(t, he.Fields, 1, "%v", err)
	require.Equal(t, param, he.Fields[0].Field, "%v", err)
}

func FuzzParseList(f *testing.F) {
	for _, q := range []string{
		"",
		"sort=-balance",
		"sort=name&status=all",
		"status=active,dormant&type=company&kind=customer&billing_status=hold",
		"q=Acme%20Trading&country=id&has_balance=true&overdue=0&engaged=F",
		"last_order_from=2026-03-01&last_order_to=2026-03-31",
		"last_order_from=2026-03-01T10:00:00%2B07:00&last_order_to=2026-03-31T23:59:59.999Z",
		"sales_rep_id=0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a&payment_terms_id=0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7b",
		"group.segment=RETAIL&group.Region=%20north%20&custom.industry=Retail",
		"sort=-&status=all,active&has_balance=maybe",
		"sort=NAME&type=Company",
		"sort=balance,-name",
		"status=,&country=IDN",
		"sales_rep_id={0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a}&payment_terms_id=urn:uuid:0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a",
		"last_order_to=2026-02-30&last_order_from=31/03/2026",
		"last_order_to=9999-12-31",
		"q=%00&country=%ff",
		"group.=X&group.a:b=X&group.segment=%20",
		"group.a%00b=RETAIL&group.segment=R%00",
		"type=" + strings.Repeat("a", 70) + "&q=" + strings.Repeat("é", 101),
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		values := queryValues(query)
		lp, errs := ParseList(values)
		again, errsAgain := ParseList(values)
		require.Equal(t, errs, errsAgain, "not deterministic")
		requireSameList(t, lp, again)
		for _, e := range errs {
			_, named := values[e.Field]
			require.True(t, named, "error %+v names no parameter of %q", e, query)
		}
		if !errs.Has("sort") {
			require.Contains(t, Sorts, lp.Sort)
		}
		if len(errs) > 0 {
			return
		}
		// Accepted: every text reaches PostgreSQL (the custom filters
		// are checked by the tenant's field definitions, Env.CustomFilter).
		texts := map[string]*string{"q": lp.Q, "type": lp.Type, "kind": lp.Kind, "billing_status": lp.BillingStatus, "country": lp.Country}
		for k, code := range lp.Groups {
			texts["group."+k] = &code
			texts["group category "+k] = &k
		}
		for name, s := range texts {
			if s != nil {
				require.True(t, pgText(*s), "%s=%q accepted", name, *s)
			}
		}
		for _, s := range lp.Statuses {
			require.Contains(t, Statuses, s)
		}
		for _, c := range []struct {
			v       *string
			allowed []string
		}{{lp.Type, Types}, {lp.Kind, Kinds}, {lp.BillingStatus, BillingStatuses}} {
			if c.v != nil {
				require.Contains(t, c.allowed, *c.v)
			}
		}
		if lp.Q != nil {
			require.Equal(t, strings.ToLower(*lp.Q), *lp.Q)
		}
		if lp.Country != nil {
			require.Equal(t, strings.ToUpper(*lp.Country), *lp.Country)
		}
		// Written back, the list reads as itself: a saved view or an
		// export job storing it gets the same list. A last_order_to of
		// 9999-12-31 ends in year 10000, which RFC 3339 cannot write.
		if lp.LastOrderTo != nil && lp.LastOrderTo.Year() > 9999 {
			return
		}
		back, errs := ParseList(listValues(lp))
		require.Empty(t, errs, "%q read back from %v", query, listValues(lp))
		requireSameList(t, lp, back)
	})
}

// cursorJSON is a raw cursor with its JSON given.
func cursorJSON(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// FuzzListCursor decodes arbitrary cursors: a bad one is a 400 naming
// cursor; one that a sort accepts gives that sort's key and a keyset
// PostgreSQL can take.
func FuzzListCursor(f *testing.F) {
	id := "0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a"
	for _, c := range []string{
		cursorJSON(`{"s":"name","t":"Acme","i":"` + id + `"}`),
		cursorJSON(`{"s":"-balance","n":"-12.5","i":"` + id + `"}`),
		cursorJSON(`{"s":"last_order_at","i":"` + id + `"}`),
		cursorJSON(`{"s":"-updated_at","ts":"2026-03-01T10:00:00.123456Z","i":"` + id + `"}`),
		cursorJSON(`{"s":"code","t":"","i":"` + id + `"}`),
		cursorJSON(`{"s":"name","t":"a\u0000b","i":"` + id + `"}`),
		cursorJSON(`{"s":"balance","n":"1e10000","i":"` + id + `"}`),
		cursorJSON(`{"s":"balance","n":"NaN","i":"` + id + `"}`),
		cursorJSON(`{"s":"name","t":"x","n":"junk","i":"` + id + `"}`),
		cursorJSON(`{"s":"name","t":"x","i":"00000000-0000-0000-0000-000000000000"}`),
		cursorJSON(`{"s":"name","t":"x","t":"y","i":"` + id + `"}`),
		cursorJSON(`{"s":"name","T":"x","i":"` + id + `"}`),
		cursorJSON(`{"s":"created_at","ts":"2026-13-01T00:00:00Z","i":"` + id + `"}`),
		cursorJSON(`[]`),
		"!!!not-base64",
		cursorJSON(`{"s":"name","t":"` + strings.Repeat("a", 5000) + `","i":"` + id + `"}`),
	} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var c Cursor
		if err := httpapi.ParseCursor(raw, &c); err != nil {
			requireNamesParam(t, err, "cursor")
			return
		}
		for _, s := range Sorts {
			if !c.check(s) {
				continue
			}
			ks, err := c.keyset()
			require.NoError(t, err, "sort %s accepted %+v", s, c)
			require.Equal(t, c.ID, *ks.id)
			switch sortColumn(s) {
			case "name", "code":
				require.NotNil(t, ks.text)
				require.True(t, pgText(*ks.text), "sort %s accepted the key %q", s, *ks.text)
			case "balance", "total_order_value":
				require.NotNil(t, ks.num)
			case "last_order_at":
			default:
				require.NotNil(t, ks.ts)
			}
		}
	})
}

// FuzzListCursorRoundTrip makes the cursor after a row, as the list
// does, and reads it back: the same cursor, which the list's sort
// accepts.
func FuzzListCursorRoundTrip(f *testing.F) {
	f.Add(uint8(0), "Acme Trading", int64(123450), uint8(4), int64(1772359200), uint32(123456789), []byte("0123456789abcdef"), true)
	f.Add(uint8(3), "PT. Maju Jaya — Cabang 2", int64(-99), uint8(0), int64(0), uint32(0), []byte{}, false)
	f.Add(uint8(9), "", int64(0), uint8(2), int64(-62135596800), uint32(0), []byte{0xff}, true)
	f.Add(uint8(13), "\u202eRTL \U0001F600", int64(9223372036854775807), uint8(4), int64(253402300799), uint32(999999999), []byte("x"), false)
	f.Add(uint8(4), "tab\there", int64(-9223372036854775808), uint8(1), int64(1), uint32(1), []byte("0123456789abcdef0"), true)
	f.Fuzz(func(t *testing.T, sortIdx uint8, text string, coef int64, scale uint8, sec int64, nsec uint32, idBytes []byte, hasLastOrder bool) {
		sortBy := Sorts[int(sortIdx)%len(Sorts)]
		// A row's keys as PostgreSQL returns them: valid UTF-8 without
		// NUL, numeric(19,4), timestamptz (years 1 to 9999 here: RFC 3339
		// writes no other).
		if !pgText(text) || sec < -62135596800 || sec > 253402300799 {
			t.Skip("not a row PostgreSQL returns")
		}
		var id uuid.UUID
		copy(id[:], idBytes)
		if id == uuid.Nil {
			id[15] = 1 // ids are never nil
		}
		ts := time.Unix(sec, int64(nsec%1_000_000_000)).UTC()
		keys := rowKeys{id: id, name: text, code: text, balance: decimal.New(coef, -int32(scale%5)),
			totalOrderValue: decimal.New(coef, -int32(scale%5)), updatedAt: ts, createdAt: ts}
		if hasLastOrder {
			keys.lastOrderAt = &ts
		}
		cur := cursorFor(sortBy, keys)
		var back Cursor
		require.NoError(t, httpapi.ParseCursor(httpapi.EncodeCursor(cur), &back))
		require.True(t, back.check(sortBy), "sort %s refuses its own cursor %+v", sortBy, back)
		require.Equal(t, cur.Time == nil, back.Time == nil)
		if cur.Time != nil {
			require.True(t, cur.Time.Equal(*back.Time), "%v became %v", cur.Time, back.Time)
		}
		cur.Time, back.Time = nil, nil
		require.True(t, reflect.DeepEqual(cur, back), "%+v became %+v", cur, back)
	})
}
