package xlsx

// isFormulaTrigger tells whether a spreadsheet may evaluate text starting
// with c.
func isFormulaTrigger(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// isEscaped tells whether s is an escaped value: an apostrophe followed by a
// trigger or by another apostrophe.
func isEscaped(s string) bool {
	return len(s) >= 2 && s[0] == '\'' && (isFormulaTrigger(s[1]) || s[1] == '\'')
}

// EscapeFormula returns s as it is written into a cell: with a leading
// apostrophe when it starts with '=', '+', '-', '@', a tab or a carriage
// return (so no spreadsheet evaluates it), or when it already looks escaped
// (so UnescapeFormula gives it back unchanged). UnescapeFormula(EscapeFormula(s))
// == s for every s.
func EscapeFormula(s string) string {
	if s != "" && (isFormulaTrigger(s[0]) || isEscaped(s)) {
		return "'" + s
	}
	return s
}

// UnescapeFormula undoes EscapeFormula: it drops the leading apostrophe of
// an escaped value and leaves every other value as it is (an apostrophe
// followed by a letter stays).
func UnescapeFormula(s string) string {
	if isEscaped(s) {
		return s[1:]
	}
	return s
}
