package importer

import "strings"

// matchHeaders gives the column (an index into cols) of each header cell,
// -1 for an unknown or blank header, and the unknown headers; a header
// that cannot be imported (a column twice, a bad mapping) refuses the file.
func matchHeaders(cols []Column, headers []string, mapping map[string]string) ([]int, []string, error) {
	m, errs := MatchHeaders(cols, headers, mapping)
	if len(errs) > 0 {
		return nil, nil, &headerError{Message: "the header cannot be imported: " + errs.Error()}
	}
	idx := make([]int, len(headers))
	for j, c := range m.Columns {
		idx[j] = -1
		for i := range cols {
			if c == &cols[i] {
				idx[j] = i
			}
		}
	}
	return idx, m.Unknown, nil
}

// requireColumns refuses a header without a column that must be there.
func requireColumns(cols []Column, idx []int, must func(Column) bool) error {
	have := map[int]bool{}
	for _, i := range idx {
		if i >= 0 {
			have[i] = true
		}
	}
	var missing []string
	for i, c := range cols {
		if must(c) && !have[i] {
			missing = append(missing, c.Header)
		}
	}
	if len(missing) > 0 {
		return &headerError{Message: "the file has no column " + strings.Join(missing, ", ") + ", which this import needs"}
	}
	return nil
}
