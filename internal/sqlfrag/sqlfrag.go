// Package sqlfrag writes shared SQL fragments into the sqlc query files.
//
// sqlc has no include: a WHERE clause several queries share (the customer
// list's filter: list, count, export page, bulk selection) would be
// written once per query and drift. Instead the fragment is written once,
// in queries/fragments/<name>.sql, and each query that uses it holds a
// copy between two marker lines:
//
//	-- fragment: customer_filter (generated from queries/fragments/customer_filter.sql: edit it there and run make generate)
//	...the fragment's text...
//	-- end fragment: customer_filter
//
// The copy is the fragment's text as it is, indented like the marker, so
// each statement PostgreSQL plans is the one a hand-written copy would be
// (a SQL function or view would hide the predicates from the planner
// behind an extra layer that inlining does not always remove). The
// generator (go run ./internal/sqlfrag/gen, run by make generate before
// sqlc) rewrites the copies; with -check (make check-generated) it fails
// when one is stale.
package sqlfrag

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

const (
	beginPrefix = "-- fragment: "
	endPrefix   = "-- end fragment: "
)

// Fragment is one shared piece of SQL.
type Fragment struct {
	Name string
	// Doc is the fragment file's leading comment (without "-- ").
	Doc string
	// Body is the SQL that is copied, without the leading comment.
	Body string
}

// Load reads every fragment of dir (one <name>.sql file each).
func Load(dir string) (map[string]Fragment, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	frags := make(map[string]Fragment, len(paths))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(filepath.Base(p), ".sql")
		f, err := Parse(name, string(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		frags[name] = f
	}
	return frags, nil
}

// Parse splits a fragment file into its leading comment and its body.
func Parse(name, src string) (Fragment, error) {
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	var doc []string
	i := 0
	for ; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "--") {
			break
		}
		doc = append(doc, strings.TrimPrefix(strings.TrimPrefix(l, "--"), " "))
	}
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	body := strings.Join(lines[i:], "\n")
	if strings.TrimSpace(body) == "" {
		return Fragment{}, fmt.Errorf("fragment %s is empty", name)
	}
	if strings.Contains(body, beginPrefix) || strings.Contains(body, endPrefix) {
		return Fragment{}, fmt.Errorf("fragment %s contains a marker", name)
	}
	if strings.Contains(body, ";") {
		return Fragment{}, fmt.Errorf("fragment %s contains a semicolon: a fragment is part of a statement", name)
	}
	return Fragment{Name: name, Doc: strings.Join(doc, "\n"), Body: body}, nil
}

// Expand returns src with the copy of every fragment between its markers
// replaced by the fragment's current text, and the names of the queries
// (from their "-- name:" lines) that use each fragment.
func Expand(src string, frags map[string]Fragment) (string, map[string][]string, error) {
	lines := strings.Split(src, "\n")
	out := make([]string, 0, len(lines))
	uses := map[string][]string{}
	query := ""
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "-- name: ") {
			if f := strings.Fields(trimmed); len(f) >= 3 {
				query = f[2]
			}
		}
		if strings.HasPrefix(trimmed, endPrefix) {
			return "", nil, fmt.Errorf("line %d: %q without its beginning", i+1, trimmed)
		}
		if !strings.HasPrefix(trimmed, beginPrefix) {
			out = append(out, l)
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(trimmed, beginPrefix), " ")
		f, ok := frags[name]
		if !ok {
			return "", nil, fmt.Errorf("line %d: unknown fragment %q", i+1, name)
		}
		if query == "" {
			return "", nil, fmt.Errorf("line %d: fragment %s outside a query", i+1, name)
		}
		end := -1
		for j := i + 1; j < len(lines); j++ {
			t := strings.TrimSpace(lines[j])
			if t == endPrefix+name {
				end = j
				break
			}
			if strings.HasPrefix(t, beginPrefix) || strings.HasPrefix(t, "-- name: ") {
				break
			}
		}
		if end < 0 {
			return "", nil, fmt.Errorf("line %d: fragment %s has no %q line", i+1, name, endPrefix+name)
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		out = append(out, indent+BeginMarker(name))
		for _, b := range strings.Split(f.Body, "\n") {
			if b == "" {
				out = append(out, "")
				continue
			}
			out = append(out, indent+b)
		}
		out = append(out, indent+endPrefix+name)
		uses[name] = append(uses[name], query)
		i = end
	}
	return strings.Join(out, "\n"), uses, nil
}

// BeginMarker is the line that opens a copy of the fragment.
func BeginMarker(name string) string {
	return beginPrefix + name + " (generated from queries/fragments/" + name + ".sql: edit it there and run make generate)"
}

// Result is what ExpandDir found and would write.
type Result struct {
	// Files maps each query file that holds a copy to its expanded text.
	Files map[string]string
	// Stale lists the files whose text differs from the expansion.
	Stale []string
	// Uses maps a fragment to the queries that use it, in file order.
	Uses map[string][]string
}

// ExpandDir expands every query file of dir (*.sql) with the fragments of
// dir/fragments.
func ExpandDir(dir string) (Result, error) {
	frags, err := Load(filepath.Join(dir, "fragments"))
	if err != nil {
		return Result{}, err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		return Result{}, err
	}
	sort.Strings(paths)
	res := Result{Files: map[string]string{}, Uses: map[string][]string{}}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return res, err
		}
		got, uses, err := Expand(string(raw), frags)
		if err != nil {
			return res, fmt.Errorf("%s: %w", p, err)
		}
		if len(uses) == 0 {
			continue
		}
		res.Files[p] = got
		if got != string(raw) {
			res.Stale = append(res.Stale, p)
		}
		for name, qs := range uses {
			res.Uses[name] = append(res.Uses[name], qs...)
		}
	}
	for name := range frags {
		if len(res.Uses[name]) == 0 {
			return res, fmt.Errorf("fragment %s is used by no query", name)
		}
	}
	return res, nil
}

var paramRE = regexp.MustCompile(`sqlc\.n?arg\((\w+)\)|@(\w+)`)

// Params returns the names of the query parameters a fragment uses
// (sqlc.arg(x), sqlc.narg(x) and @x), in order of first use.
func Params(f Fragment) []string {
	var names []string
	seen := map[string]bool{}
	for _, m := range paramRE.FindAllStringSubmatch(f.Body, -1) {
		n := m[1] + m[2]
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}
