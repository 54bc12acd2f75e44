package xlsx

import (
	"strconv"
	"strings"
	"time"
)

// fmtKind is what a number format makes of a number cell.
type fmtKind uint8

const (
	fmtGeneral fmtKind = iota
	fmtDate
	fmtPercent
	fmtZeroPad
	fmtText
)

// numFormat is a style's number format as the reader needs it, computed once
// per style id.
type numFormat struct {
	kind fmtKind
	pad  int    // digits of a zero-padding format ("00000" → 5)
	code string // the format code of a date format, for its displayed text
}

// builtinNumFmt classifies excelize's and Excel's built-in format ids.
func builtinNumFmt(id int) numFormat {
	switch {
	case id == 9 || id == 10:
		return numFormat{kind: fmtPercent}
	case id == 14:
		return numFormat{kind: fmtDate, code: "yyyy-mm-dd"}
	case id >= 15 && id <= 17:
		return numFormat{kind: fmtDate, code: builtinDateCodes[id]}
	case id == 22:
		return numFormat{kind: fmtDate, code: "yyyy-mm-dd hh:mm"}
	case id >= 18 && id <= 21, id >= 45 && id <= 47:
		return numFormat{kind: fmtDate, code: builtinDateCodes[id]}
	case id >= 27 && id <= 36, id >= 50 && id <= 58, id >= 71 && id <= 81:
		// Locale-dependent (CJK, Thai) date formats: shown as ISO dates.
		return numFormat{kind: fmtDate, code: "yyyy-mm-dd"}
	case id == 49:
		return numFormat{kind: fmtText}
	}
	return numFormat{kind: fmtGeneral}
}

// builtinDateCodes are the codes of the built-in date and time formats. Id
// 14 (the short date) follows the reader's locale in Excel; it is shown as
// an ISO date here, which no locale misreads.
var builtinDateCodes = map[int]string{
	15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy",
	18: "h:mm AM/PM", 19: "h:mm:ss AM/PM", 20: "hh:mm", 21: "hh:mm:ss",
	45: "mm:ss", 46: "[h]:mm:ss", 47: "mm:ss.0",
}

// classifyNumFmt classifies a custom format code by its first section.
func classifyNumFmt(code string) numFormat {
	lc := strings.ToLower(strings.TrimSpace(code))
	if lc == "" || lc == "general" {
		return numFormat{kind: fmtGeneral}
	}
	if lc == "@" {
		return numFormat{kind: fmtText}
	}
	section := firstSection(code)
	var plain strings.Builder
	var date, percent bool
	for _, t := range tokenizeFormat(section) {
		switch t.kind {
		case tokDate:
			date = true
		case tokOther:
			plain.WriteString(t.text)
			if strings.Contains(t.text, "%") {
				percent = true
			}
		}
	}
	switch {
	case date:
		return numFormat{kind: fmtDate, code: section}
	case percent:
		return numFormat{kind: fmtPercent}
	}
	if p := plain.String(); len(p) >= 2 && strings.Trim(p, "0") == "" {
		return numFormat{kind: fmtZeroPad, pad: len(p)}
	}
	return numFormat{kind: fmtGeneral}
}

// firstSection returns the format code up to its first unquoted ';'.
func firstSection(code string) string {
	inQuote := false
	for i := 0; i < len(code); i++ {
		switch c := code[i]; {
		case c == '"':
			inQuote = !inQuote
		case c == '\\' && !inQuote:
			i++
		case c == ';' && !inQuote:
			return code[:i]
		}
	}
	return code
}

type tokKind uint8

const (
	tokLiteral tokKind = iota // text shown as is
	tokDate                   // y, m, d, h, s, AM/PM, elapsed [h]
	tokOther                  // number placeholders and symbols
)

type fmtToken struct {
	kind tokKind
	text string
}

// tokenizeFormat splits one section of a format code.
func tokenizeFormat(s string) []fmtToken {
	var out []fmtToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				j = len(s) - i - 1
			}
			out = append(out, fmtToken{tokLiteral, s[i+1 : i+1+j]})
			i += j + 2
		case c == '\\' && i+1 < len(s):
			out = append(out, fmtToken{tokLiteral, s[i+1 : i+2]})
			i += 2
		case c == '_' && i+1 < len(s):
			out = append(out, fmtToken{tokLiteral, " "})
			i += 2
		case c == '*' && i+1 < len(s):
			i += 2
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				j = len(s) - i - 1
			}
			inner := strings.ToLower(s[i+1 : i+j])
			if inner != "" && strings.Trim(inner, "hms") == "" {
				out = append(out, fmtToken{tokDate, s[i : i+j+1]})
			}
			i += j + 1
		case strings.HasPrefix(strings.ToUpper(s[i:]), "AM/PM"):
			out = append(out, fmtToken{tokDate, "AM/PM"})
			i += 5
		case strings.HasPrefix(strings.ToUpper(s[i:]), "A/P"):
			out = append(out, fmtToken{tokDate, "A/P"})
			i += 3
		case strings.IndexByte("yYmMdDhHsS", c) >= 0:
			j := i + 1
			for j < len(s) && (s[j]|0x20) == (c|0x20) {
				j++
			}
			out = append(out, fmtToken{tokDate, strings.ToLower(s[i:j])})
			i = j
		case c == 'e' || c == 'E' || c == 'g' || c == 'G' || c == 'b' || c == 'B':
			// An exponent, a "General" inside a section, an era or
			// Buddhist year: none of them makes a number a date.
			out = append(out, fmtToken{tokOther, s[i : i+1]})
			i++
		default:
			kind := tokOther
			if strings.IndexByte("0#?.,%", c) < 0 {
				kind = tokLiteral
			}
			out = append(out, fmtToken{kind, s[i : i+1]})
			i++
		}
	}
	return out
}

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// formatDate renders t as a date format code shows it (English names). It
// covers the codes spreadsheets write for dates and times; fractional
// seconds are dropped.
func formatDate(t time.Time, code string, elapsed float64) string {
	toks := tokenizeFormat(code)
	hasAMPM := false
	for _, tk := range toks {
		if tk.text == "AM/PM" || tk.text == "A/P" {
			hasAMPM = true
		}
	}
	var b strings.Builder
	for i, tk := range toks {
		if tk.kind != tokDate {
			if tk.kind == tokOther && (tk.text == "0" || tk.text == ".") {
				continue // fractional seconds ("ss.0")
			}
			b.WriteString(tk.text)
			continue
		}
		switch v := tk.text; {
		case v[0] == '[':
			switch strings.ToLower(v)[1] {
			case 'h':
				b.WriteString(strconv.Itoa(int(elapsed * 24)))
			case 'm':
				b.WriteString(strconv.Itoa(int(elapsed * 24 * 60)))
			default:
				b.WriteString(strconv.Itoa(int(elapsed * 24 * 3600)))
			}
		case v == "AM/PM" || v == "A/P":
			ampm := "AM"
			if t.Hour() >= 12 {
				ampm = "PM"
			}
			if v == "A/P" {
				ampm = ampm[:1]
			}
			b.WriteString(ampm)
		case v[0] == 'y':
			if len(v) <= 2 {
				b.WriteString(pad2(t.Year() % 100))
			} else {
				b.WriteString(strconv.Itoa(t.Year()))
			}
		case v[0] == 'd':
			switch len(v) {
			case 1:
				b.WriteString(strconv.Itoa(t.Day()))
			case 2:
				b.WriteString(pad2(t.Day()))
			case 3:
				b.WriteString(dayNames[t.Weekday()][:3])
			default:
				b.WriteString(dayNames[t.Weekday()])
			}
		case v[0] == 'h':
			h := t.Hour()
			if hasAMPM {
				h %= 12
				if h == 0 {
					h = 12
				}
			}
			if len(v) == 1 {
				b.WriteString(strconv.Itoa(h))
			} else {
				b.WriteString(pad2(h))
			}
		case v[0] == 's':
			if len(v) == 1 {
				b.WriteString(strconv.Itoa(t.Second()))
			} else {
				b.WriteString(pad2(t.Second()))
			}
		case v[0] == 'm':
			if isMinute(toks, i) {
				if len(v) == 1 {
					b.WriteString(strconv.Itoa(t.Minute()))
				} else {
					b.WriteString(pad2(t.Minute()))
				}
				continue
			}
			switch len(v) {
			case 1:
				b.WriteString(strconv.Itoa(int(t.Month())))
			case 2:
				b.WriteString(pad2(int(t.Month())))
			case 3:
				b.WriteString(monthNames[t.Month()-1][:3])
			case 5:
				b.WriteString(monthNames[t.Month()-1][:1])
			default:
				b.WriteString(monthNames[t.Month()-1])
			}
		}
	}
	return b.String()
}

// isMinute tells whether the m token at i means minutes: right after an
// hour or right before a second (literals between them ignored).
func isMinute(toks []fmtToken, i int) bool {
	if len(toks[i].text) > 2 {
		return false
	}
	for j := i - 1; j >= 0; j-- {
		if toks[j].kind == tokDate {
			c := toks[j].text[0]
			if c == 'h' || c == '[' {
				return true
			}
			break
		}
	}
	for j := i + 1; j < len(toks); j++ {
		if toks[j].kind == tokDate {
			return toks[j].text[0] == 's'
		}
	}
	return false
}

func pad2(n int) string {
	if n < 10 && n >= 0 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
