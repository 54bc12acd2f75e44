package settings_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/validation"
)

func testEnv() settings.Env {
	return settings.Env{Fields: []settings.FieldDef{
		{Key: "note", Label: "Note", Type: settings.TypeText},
		{Key: "size", Label: "Size", Type: settings.TypeNumber},
		{Key: "due", Label: "Due", Type: settings.TypeDate},
		{Key: "vip", Label: "VIP", Type: settings.TypeBool},
		{Key: "tier", Label: "Tier", Type: settings.TypeSelect, Options: []string{"gold", "silver"}},
	}}
}

// fieldCodes maps each error's field to its code.
func fieldCodes(errs validation.Errors) map[string]string {
	out := map[string]string{}
	for _, e := range errs {
		out[e.Field] = e.Code
	}
	return out
}

func TestApplyCustom(t *testing.T) {
	t.Parallel()
	required := testEnv()
	required.Fields = append(required.Fields, settings.FieldDef{Key: "region", Label: "Region", Type: settings.TypeText, Required: true})

	tests := []struct {
		name    string
		env     settings.Env // testEnv() when zero
		current string
		patch   map[string]string // key → raw JSON
		want    string            // the new object, compared as JSON
		errs    map[string]string // field → code
	}{
		// text
		{name: "TextTrimmed", patch: map[string]string{"note": `"  hello  "`}, want: `{"note":"hello"}`},
		{name: "TextNewlineAndTab", patch: map[string]string{"note": `"a\nb\tc"`}, want: `{"note":"a\nb\tc"}`},
		{name: "TextControlCharacter", patch: map[string]string{"note": `"a\u0007b"`}, errs: map[string]string{"custom.note": "invalid_characters"}},
		{name: "TextCarriageReturn", patch: map[string]string{"note": `"a\rb"`}, errs: map[string]string{"custom.note": "invalid_characters"}},
		{name: "TextBlank", patch: map[string]string{"note": `"   "`}, errs: map[string]string{"custom.note": "empty"}},
		{name: "TextLongest", patch: map[string]string{"note": `"` + strings.Repeat("é", 1000) + `"`}, want: `{"note":"` + strings.Repeat("é", 1000) + `"}`},
		{name: "TextTooLong", patch: map[string]string{"note": `"` + strings.Repeat("x", 1001) + `"`}, errs: map[string]string{"custom.note": "too_long"}},
		{name: "TextNotString", patch: map[string]string{"note": `5`}, errs: map[string]string{"custom.note": "invalid_type"}},
		{name: "TextObject", patch: map[string]string{"note": `{"a":1}`}, errs: map[string]string{"custom.note": "invalid_type"}},
		// number
		{name: "NumberCanonical", patch: map[string]string{"size": `1.50`}, want: `{"size":1.5}`},
		{name: "NumberString", patch: map[string]string{"size": `"007"`}, want: `{"size":7}`},
		{name: "NumberNegativeString", patch: map[string]string{"size": `" -12.250 "`}, want: `{"size":-12.25}`},
		{name: "NumberNegativeZero", patch: map[string]string{"size": `-0.0`}, want: `{"size":0}`},
		{name: "NumberExponent", patch: map[string]string{"size": `1e3`}, want: `{"size":1000}`},
		{name: "NumberExact", patch: map[string]string{"size": `123456789012345678.123456789`}, want: `{"size":123456789012345678.123456789}`},
		{name: "NumberNoFloatRounding", patch: map[string]string{"size": `0.1000000000000000055511151231257827`}, errs: map[string]string{"custom.size": "out_of_range"}},
		{name: "NumberStringExponent", patch: map[string]string{"size": `"1e3"`}, errs: map[string]string{"custom.size": "invalid_number"}},
		{name: "NumberStringComma", patch: map[string]string{"size": `"1,5"`}, errs: map[string]string{"custom.size": "invalid_number"}},
		{name: "NumberStringPlus", patch: map[string]string{"size": `"+5"`}, errs: map[string]string{"custom.size": "invalid_number"}},
		{name: "NumberStringEmpty", patch: map[string]string{"size": `""`}, errs: map[string]string{"custom.size": "invalid_number"}},
		{name: "NumberBool", patch: map[string]string{"size": `true`}, errs: map[string]string{"custom.size": "invalid_type"}},
		{name: "NumberHugeExponent", patch: map[string]string{"size": `1e999999999`}, errs: map[string]string{"custom.size": "out_of_range"}},
		{name: "NumberTinyExponent", patch: map[string]string{"size": `1e-999999999`}, errs: map[string]string{"custom.size": "out_of_range"}},
		{name: "NumberTooManyDigits", patch: map[string]string{"size": strings.Repeat("9", 31)}, errs: map[string]string{"custom.size": "out_of_range"}},
		{name: "NumberMostDigits", patch: map[string]string{"size": strings.Repeat("9", 30)}, want: `{"size":` + strings.Repeat("9", 30) + `}`},
		// date
		{name: "Date", patch: map[string]string{"due": `"2024-02-29"`}, want: `{"due":"2024-02-29"}`},
		{name: "DateNotReal", patch: map[string]string{"due": `"2023-02-29"`}, errs: map[string]string{"custom.due": "invalid_date"}},
		{name: "DateMonth13", patch: map[string]string{"due": `"2024-13-01"`}, errs: map[string]string{"custom.due": "invalid_date"}},
		{name: "DateUnpadded", patch: map[string]string{"due": `"2024-2-9"`}, errs: map[string]string{"custom.due": "invalid_date"}},
		{name: "DateTime", patch: map[string]string{"due": `"2024-02-29T00:00:00Z"`}, errs: map[string]string{"custom.due": "invalid_date"}},
		{name: "DateNumber", patch: map[string]string{"due": `20240229`}, errs: map[string]string{"custom.due": "invalid_type"}},
		// bool
		{name: "BoolTrue", patch: map[string]string{"vip": `true`}, want: `{"vip":true}`},
		{name: "BoolFalse", patch: map[string]string{"vip": `false`}, want: `{"vip":false}`},
		{name: "BoolString", patch: map[string]string{"vip": `"true"`}, errs: map[string]string{"custom.vip": "invalid_type"}},
		{name: "BoolNumber", patch: map[string]string{"vip": `1`}, errs: map[string]string{"custom.vip": "invalid_type"}},
		// select
		{name: "Select", patch: map[string]string{"tier": `" gold "`}, want: `{"tier":"gold"}`},
		{name: "SelectCase", patch: map[string]string{"tier": `"Gold"`}, errs: map[string]string{"custom.tier": "invalid_choice"}},
		{name: "SelectNotOption", patch: map[string]string{"tier": `"bronze"`}, errs: map[string]string{"custom.tier": "invalid_choice"}},
		{name: "SelectNumber", patch: map[string]string{"tier": `1`}, errs: map[string]string{"custom.tier": "invalid_type"}},
		// the object as a whole
		{name: "NullRemoves", current: `{"note":"x","vip":true}`, patch: map[string]string{"note": `null`}, want: `{"vip":true}`},
		{name: "NullOfAbsentKey", patch: map[string]string{"note": `null`}, want: `{}`},
		{name: "KeepsStored", current: `{"note":"x","size":2}`, patch: map[string]string{"vip": `false`}, want: `{"note":"x","size":2,"vip":false}`},
		{name: "Replaces", current: `{"size":2}`, patch: map[string]string{"size": `"3.10"`}, want: `{"size":3.1}`},
		{name: "DropsUndefinedStored", current: `{"gone":"x","note":"y"}`, want: `{"note":"y"}`},
		{name: "EmptyCurrent", current: ``, want: `{}`},
		{name: "NullCurrent", current: `null`, patch: map[string]string{"vip": `true`}, want: `{"vip":true}`},
		{name: "UnknownKey", patch: map[string]string{"nope": `"x"`, "note": `"ok"`}, errs: map[string]string{"custom.nope": "unknown_field"}},
		{name: "StoredRevalidated", current: `{"tier":"bronze","note":"x"}`, errs: map[string]string{"custom.tier": "invalid_choice"}},
		{name: "StoredFixedByPatch", current: `{"tier":"bronze"}`, patch: map[string]string{"tier": `"silver"`}, want: `{"tier":"silver"}`},
		{name: "StoredNumberCanonicalized", current: `{"size":1.50}`, want: `{"size":1.5}`},
		{name: "StoredNotObject", current: `[1]`, errs: map[string]string{"custom": "invalid_stored"}},
		{name: "EveryBadValue", patch: map[string]string{"note": `1`, "size": `"x"`, "due": `"x"`, "vip": `"x"`, "tier": `"x"`},
			errs: map[string]string{"custom.note": "invalid_type", "custom.size": "invalid_number", "custom.due": "invalid_date",
				"custom.vip": "invalid_type", "custom.tier": "invalid_choice"}},
		// required
		{name: "RequiredMissing", env: required, patch: map[string]string{"note": `"x"`}, errs: map[string]string{"custom.region": "required"}},
		{name: "RequiredRemoved", env: required, current: `{"region":"north"}`, patch: map[string]string{"region": `null`},
			errs: map[string]string{"custom.region": "required"}},
		{name: "RequiredStored", env: required, current: `{"region":"north"}`, patch: map[string]string{"vip": `true`},
			want: `{"region":"north","vip":true}`},
		{name: "RequiredGiven", env: required, patch: map[string]string{"region": `"south"`}, want: `{"region":"south"}`},
		{name: "RequiredBadValueOneError", env: required, patch: map[string]string{"region": `7`}, errs: map[string]string{"custom.region": "invalid_type"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := tc.env
			if env.Fields == nil {
				env = testEnv()
			}
			patch := map[string]json.RawMessage{}
			for k, v := range tc.patch {
				patch[k] = json.RawMessage(v)
			}
			got, errs := env.ApplyCustom(json.RawMessage(tc.current), patch)
			if tc.errs != nil {
				require.Equal(t, tc.errs, fieldCodes(errs), "errors: %v", errs)
				require.Len(t, errs, len(tc.errs), "one error per field")
				require.Nil(t, got)
				return
			}
			require.Empty(t, errs)
			require.JSONEq(t, tc.want, string(got))
		})
	}

	t.Run("NumbersKeepTheirText", func(t *testing.T) {
		t.Parallel()
		// JSONEq compares numbers as float64; the stored text itself must
		// be the exact canonical decimal.
		got, errs := testEnv().ApplyCustom(nil, map[string]json.RawMessage{"size": json.RawMessage(`123456789012345678.1234567890`)})
		require.Empty(t, errs)
		require.Equal(t, `{"size":123456789012345678.123456789}`, string(got))
	})
	t.Run("ErrorsSortedByField", func(t *testing.T) {
		t.Parallel()
		_, errs := testEnv().ApplyCustom(nil, map[string]json.RawMessage{"vip": json.RawMessage(`1`), "due": json.RawMessage(`1`), "note": json.RawMessage(`1`)})
		require.Equal(t, []string{"custom.due", "custom.note", "custom.vip"}, []string{errs[0].Field, errs[1].Field, errs[2].Field})
	})
}

func TestVisible(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		current string
		want    map[string]any
	}{
		{name: "OnlyDefinedKeys", current: `{"note":"x","size":1.5,"gone":1,"vip":true,"due":"2024-01-31","tier":"gold"}`,
			want: map[string]any{"note": "x", "size": json.Number("1.5"), "vip": true, "due": "2024-01-31", "tier": "gold"}},
		{name: "NumbersExact", current: `{"size":123456789012345678.123456789}`,
			want: map[string]any{"size": json.Number("123456789012345678.123456789")}},
		{name: "StaleValueShown", current: `{"tier":"bronze"}`, want: map[string]any{"tier": "bronze"}},
		{name: "NullValueHidden", current: `{"note":null}`, want: map[string]any{}},
		{name: "Empty", current: `{}`, want: map[string]any{}},
		{name: "Nil", current: ``, want: map[string]any{}},
		{name: "NotObject", current: `[1,2]`, want: map[string]any{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := testEnv().Visible(json.RawMessage(tc.current))
			require.NotNil(t, got)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestCustomFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		filters map[string]string
		want    string
		errs    map[string]string
	}{
		{name: "Text", filters: map[string]string{"note": " hello "}, want: `{"note":"hello"}`},
		{name: "TextEmpty", filters: map[string]string{"note": ""}, errs: map[string]string{"custom.note": "empty"}},
		{name: "NumberCanonical", filters: map[string]string{"size": "1.50"}, want: `{"size":1.5}`},
		{name: "NumberLeadingZeros", filters: map[string]string{"size": "007"}, want: `{"size":7}`},
		{name: "NumberBad", filters: map[string]string{"size": "abc"}, errs: map[string]string{"custom.size": "invalid_number"}},
		{name: "NumberExponent", filters: map[string]string{"size": "1e3"}, errs: map[string]string{"custom.size": "invalid_number"}},
		{name: "Date", filters: map[string]string{"due": "2024-02-29"}, want: `{"due":"2024-02-29"}`},
		{name: "DateBad", filters: map[string]string{"due": "2023-02-29"}, errs: map[string]string{"custom.due": "invalid_date"}},
		{name: "BoolTrue", filters: map[string]string{"vip": "true"}, want: `{"vip":true}`},
		{name: "BoolFalse", filters: map[string]string{"vip": "false"}, want: `{"vip":false}`},
		{name: "BoolBad", filters: map[string]string{"vip": "yes"}, errs: map[string]string{"custom.vip": "invalid_bool"}},
		{name: "BoolCase", filters: map[string]string{"vip": "True"}, errs: map[string]string{"custom.vip": "invalid_bool"}},
		{name: "Select", filters: map[string]string{"tier": "silver"}, want: `{"tier":"silver"}`},
		{name: "SelectNotOption", filters: map[string]string{"tier": "bronze"}, errs: map[string]string{"custom.tier": "invalid_choice"}},
		{name: "Unknown", filters: map[string]string{"nope": "x"}, errs: map[string]string{"custom.nope": "unknown_field"}},
		{name: "Several", filters: map[string]string{"vip": "true", "tier": "gold", "size": "2.0"}, want: `{"size":2,"tier":"gold","vip":true}`},
		{name: "SeveralBad", filters: map[string]string{"vip": "1", "size": "x", "tier": "gold"},
			errs: map[string]string{"custom.vip": "invalid_bool", "custom.size": "invalid_number"}},
		{name: "None", filters: map[string]string{}, want: `{}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, errs := testEnv().CustomFilter(tc.filters)
			if tc.errs != nil {
				require.Equal(t, tc.errs, fieldCodes(errs), "errors: %v", errs)
				require.Nil(t, got)
				return
			}
			require.Empty(t, errs)
			require.Equal(t, tc.want, string(got), "exact text: numbers must not pass through float64")
		})
	}
}

func TestCheckCountry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"US", "US", true}, {" de ", "DE", true}, {"uk", "GB", true}, {"XK", "XK", true},
		{"USA", "", false}, {"840", "", false}, {"EU", "", false}, {"ZZ", "", false}, {"XX", "", false},
		{"", "", false}, {"U1", "", false}, {"ÜS", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			var errs validation.Errors
			got := settings.CheckCountry(&errs, "country", tc.in)
			if !tc.ok {
				require.Equal(t, map[string]string{"country": "invalid_country"}, fieldCodes(errs))
				return
			}
			require.Empty(t, errs)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestFieldInputValidate(t *testing.T) {
	t.Parallel()
	many := make([]string, settings.MaxOptions+1)
	for i := range many {
		many[i] = strings.Repeat("o", i%50+1) + string(rune('a'+i/50))
	}
	tests := []struct {
		name string
		in   settings.FieldInput
		errs map[string]string
	}{
		{name: "Text", in: settings.FieldInput{Key: "po_number", Label: "PO", Type: "text"}},
		{name: "Select", in: settings.FieldInput{Key: "tier", Label: "Tier", Type: "select", Options: []string{"a", "b"}}},
		{name: "KeyUpper", in: settings.FieldInput{Key: "Tier", Label: "T", Type: "text"}, errs: map[string]string{"key": "invalid_key"}},
		{name: "KeyDigitFirst", in: settings.FieldInput{Key: "1a", Label: "T", Type: "text"}, errs: map[string]string{"key": "invalid_key"}},
		{name: "KeyDash", in: settings.FieldInput{Key: "a-b", Label: "T", Type: "text"}, errs: map[string]string{"key": "invalid_key"}},
		{name: "KeyLongest", in: settings.FieldInput{Key: "a" + strings.Repeat("b", 39), Label: "T", Type: "text"}},
		{name: "KeyTooLong", in: settings.FieldInput{Key: "a" + strings.Repeat("b", 40), Label: "T", Type: "text"}, errs: map[string]string{"key": "invalid_key"}},
		{name: "KeyEmpty", in: settings.FieldInput{Key: "", Label: "T", Type: "text"}, errs: map[string]string{"key": "invalid_key"}},
		{name: "LabelEmpty", in: settings.FieldInput{Key: "a", Label: " ", Type: "text"}, errs: map[string]string{"label": "required"}},
		{name: "TypeUnknown", in: settings.FieldInput{Key: "a", Label: "A", Type: "money"}, errs: map[string]string{"type": "invalid_choice"}},
		{name: "SelectNoOptions", in: settings.FieldInput{Key: "a", Label: "A", Type: "select"}, errs: map[string]string{"options": "required"}},
		{name: "SelectTooMany", in: settings.FieldInput{Key: "a", Label: "A", Type: "select", Options: many}, errs: map[string]string{"options": "too_many"}},
		{name: "SelectMost", in: settings.FieldInput{Key: "a", Label: "A", Type: "select", Options: many[:settings.MaxOptions]}},
		{name: "SelectDuplicate", in: settings.FieldInput{Key: "a", Label: "A", Type: "select", Options: []string{"x", " x "}},
			errs: map[string]string{"options.1": "duplicate"}},
		{name: "SelectEmptyOption", in: settings.FieldInput{Key: "a", Label: "A", Type: "select", Options: []string{"x", ""}},
			errs: map[string]string{"options.1": "required"}},
		{name: "SelectLongOption", in: settings.FieldInput{Key: "a", Label: "A", Type: "select", Options: []string{strings.Repeat("x", 101)}},
			errs: map[string]string{"options.0": "too_long"}},
		{name: "OptionsOnText", in: settings.FieldInput{Key: "a", Label: "A", Type: "text", Options: []string{"x"}}, errs: map[string]string{"options": "not_allowed"}},
		{name: "PositionNegative", in: settings.FieldInput{Key: "a", Label: "A", Type: "bool", Position: -1}, errs: map[string]string{"position": "out_of_range"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.in.Validate()
			if tc.errs == nil {
				require.NoError(t, err)
				return
			}
			var errs validation.Errors
			require.ErrorAs(t, err, &errs)
			require.Equal(t, tc.errs, fieldCodes(errs))
		})
	}
}
