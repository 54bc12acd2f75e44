package database_test

// A static check of SQL statements for what Citus (13.2, distributed by
// tenant_id) refuses or cannot route to one shard. It reads statements with
// PostgreSQL's own parser (pg_query_go, the binding sqlc itself uses: sqlc's
// @name, sqlc.arg and sqlc.narg parse as they do for sqlc) and judges
// functions and operators by their volatility in the migrated database's
// catalog. What it looks for, with the Citus planner code that refuses it
// (multi_router_planner.c):
//
//  1. ruleConflictSet: a non-IMMUTABLE function or operator in an INSERT's
//     ON CONFLICT DO UPDATE SET or its WHERE (ErrorIfOnConflictNotSupported,
//     contain_mutable_functions: any STABLE call counts, now() and
//     timestamptz + interval alike).
//  2. ruleCaseCoalesce: a CASE or COALESCE that calls one, in an UPDATE's SET
//     or in an UPDATE's or DELETE's WHERE (MasterIrreducibleExpression:
//     "non-IMMUTABLE functions are not allowed in CASE or COALESCE").
//  3. ruleOuterJoinNull: a parameter that can be NULL inside an outer join's
//     ON clause. The planner folds `col = NULL` to a constant, the join loses
//     its tenant_id equality, and Citus then refuses the join ("complex
//     joins are only supported when all distributed tables are co-located")
//     or, in the Citus run of 2026-12-06, crashed the coordinator. A
//     COALESCE whose last argument is not such a parameter is never NULL, so
//     it is allowed.
//  4. ruleTenantFilter: a tenant table (one with a tenant_id column) whose
//     tenant_id is neither compared with a value (parameter, function,
//     variable), nor equal to the tenant_id of a table that is, nor set by
//     the INSERT: such a statement reaches every shard.
//  5. ruleUpdateCall: in an UPDATE's SET or an UPDATE's or DELETE's WHERE, a
//     VOLATILE call, or a STABLE one applied to a column ("functions used in
//     UPDATE queries on distributed tables must not be VOLATILE", "STABLE
//     functions used in UPDATE queries cannot be called with column
//     references").
//
// An operator's volatility is known only when both operand types are: from
// casts, literals, function results and the columns of the tables in scope;
// an operand it cannot type (a parameter without a cast, a string literal)
// leaves the operator unjudged. Type casts themselves are not judged.

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

type citusRule string

const (
	ruleConflictSet   citusRule = "on-conflict-set-not-immutable"
	ruleCaseCoalesce  citusRule = "case-coalesce-not-immutable"
	ruleOuterJoinNull citusRule = "outer-join-nullable-param"
	ruleTenantFilter  citusRule = "tenant-id-not-filtered"
	ruleUpdateCall    citusRule = "update-volatile-or-stable-on-column"
)

// citusFinding is one statement breaking one rule.
type citusFinding struct {
	Unit   string
	Rule   citusRule
	Detail string
}

func (f citusFinding) String() string { return fmt.Sprintf("%s: %s: %s", f.Unit, f.Rule, f.Detail) }

// sqlParam is a parameter of a statement: @name, sqlc.arg(name),
// sqlc.narg(name), $n, or a function's argument or PL/pgSQL variable.
type sqlParam struct {
	Name     string // @name, sqlc.arg/narg name, or the variable
	Narg     bool   // sqlc.narg: NULL by design
	Position int32  // $n
	Variable bool   // a function argument or PL/pgSQL variable (or NEW/OLD field)
}

// sqlUnit is one statement to check and what tells its parameters apart.
type sqlUnit struct {
	Name string
	Stmt *pg_query.Node
	// Vars are the names (lower case) that are function arguments or
	// PL/pgSQL variables, not columns.
	Vars map[string]bool
	// Nullable says whether a parameter can be NULL.
	Nullable func(sqlParam) bool
}

// pgCatalog is what the checks need from the migrated database's catalog.
type pgCatalog struct {
	tenantTables map[string]bool
	columns      map[string]map[string]uint32 // table → column → type
	funcs        map[string][]pgFunc          // pg_catalog and public, by name
	ops          map[pgOpKey]pgOp
	types        map[string]uint32 // type name (arrays as name[]) → oid
	pseudo       map[uint32]bool   // polymorphic and pseudo-types (any, anyelement, ...)
}

type pgFunc struct {
	args      []uint32
	defaults  int
	variadic  bool
	volatile  byte
	result    uint32
	signature string
}

type pgOpKey struct {
	name        string
	left, right uint32
}

type pgOp struct {
	volatile  byte
	result    uint32
	signature string
}

func loadCatalog(ctx context.Context, t *testing.T, pool *pgxpool.Pool) *pgCatalog {
	t.Helper()
	c := &pgCatalog{tenantTables: map[string]bool{}, columns: map[string]map[string]uint32{}, funcs: map[string][]pgFunc{},
		ops: map[pgOpKey]pgOp{}, types: map[string]uint32{}, pseudo: map[uint32]bool{}}

	rows, err := pool.Query(ctx, `
		SELECT c.relname, a.attname, a.atttypid FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v')`)
	require.NoError(t, err)
	var table, column string
	var typ uint32
	_, err = pgx.ForEachRow(rows, []any{&table, &column, &typ}, func() error {
		if c.columns[table] == nil {
			c.columns[table] = map[string]uint32{}
		}
		c.columns[table][column] = typ
		if column == "tenant_id" {
			c.tenantTables[table] = true
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, c.tenantTables)

	rows, err = pool.Query(ctx, `
		SELECT p.proname, p.proargtypes::oid[], p.pronargdefaults, p.provariadic <> 0, p.provolatile::text, p.prorettype,
		       p.oid::regprocedure::text
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname IN ('pg_catalog', 'public')`)
	require.NoError(t, err)
	var f pgFunc
	var name, volatile string
	_, err = pgx.ForEachRow(rows, []any{&name, &f.args, &f.defaults, &f.variadic, &volatile, &f.result, &f.signature}, func() error {
		f.volatile = volatile[0]
		f.args = append([]uint32(nil), f.args...)
		c.funcs[name] = append(c.funcs[name], f)
		return nil
	})
	require.NoError(t, err)

	rows, err = pool.Query(ctx, `
		SELECT o.oprname, o.oprleft, o.oprright, o.oprresult, p.provolatile::text, o.oid::regoperator::text
		FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode JOIN pg_namespace n ON n.oid = o.oprnamespace
		WHERE n.nspname IN ('pg_catalog', 'public')`)
	require.NoError(t, err)
	var k pgOpKey
	var op pgOp
	_, err = pgx.ForEachRow(rows, []any{&k.name, &k.left, &k.right, &op.result, &volatile, &op.signature}, func() error {
		op.volatile = volatile[0]
		c.ops[k] = op
		return nil
	})
	require.NoError(t, err)

	rows, err = pool.Query(ctx, `
		SELECT t.typname, t.oid, t.typarray, t.typtype = 'p' FROM pg_type t
		JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname IN ('pg_catalog', 'public')`)
	require.NoError(t, err)
	var oid, array uint32
	var pseudo bool
	_, err = pgx.ForEachRow(rows, []any{&name, &oid, &array, &pseudo}, func() error {
		c.types[name] = oid
		if array != 0 {
			c.types[name+"[]"] = array
		}
		c.pseudo[oid] = pseudo
		return nil
	})
	require.NoError(t, err)
	return c
}

// queryUnits reads every statement of the sqlc query files in dir, named
// by the file and the statement's "-- name:". nullable maps a query name to
// which of its parameters can be NULL, from the generated Go code.
func queryUnits(t *testing.T, dir string, nullable map[string]map[string]bool) []sqlUnit {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	nameRE := regexp.MustCompile(`(?m)^-- name: (\w+)`)
	var units []sqlUnit
	for _, file := range files {
		text, err := os.ReadFile(file)
		require.NoError(t, err)
		res, err := pg_query.Parse(string(text))
		require.NoError(t, err, file)
		for _, raw := range res.Stmts {
			end := len(text)
			if raw.StmtLen > 0 {
				end = int(raw.StmtLocation + raw.StmtLen)
			}
			m := nameRE.FindSubmatch(text[raw.StmtLocation:end])
			require.NotNil(t, m, "%s: a statement without -- name: at offset %d", file, raw.StmtLocation)
			query := string(m[1])
			params := nullable[query]
			units = append(units, sqlUnit{
				Name: "queries/" + filepath.Base(file) + " " + query,
				Stmt: raw.Stmt,
				Nullable: func(p sqlParam) bool {
					return p.Narg || (p.Name != "" && params[paramKey(p.Name)])
				},
			})
		}
	}
	return units
}

// paramKey is a parameter name as sqlc's Go field names match it: case
// and underscores ignored (own_list_id is OwnListID).
func paramKey(name string) string { return strings.ToLower(strings.ReplaceAll(name, "_", "")) }

// sqlcNullableParams reads the sqlc-generated Go code in dir and returns,
// per query, the parameters whose Go type can carry NULL (a pointer or a
// pgtype value): sqlc gives @name such a type when the column it is
// compared with or stored in is nullable.
func sqlcNullableParams(t *testing.T, dir string) map[string]map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.sql.go"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	structs := map[string]*ast.StructType{}
	var methods []*ast.FuncDecl
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if ts, ok := spec.(*ast.TypeSpec); ok {
						if st, ok := ts.Type.(*ast.StructType); ok {
							structs[ts.Name.Name] = st
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv != nil {
					methods = append(methods, d)
				}
			}
		}
	}
	nullableType := func(e ast.Expr) bool {
		switch x := e.(type) {
		case *ast.StarExpr:
			return true
		case *ast.SelectorExpr:
			id, ok := x.X.(*ast.Ident)
			return ok && id.Name == "pgtype"
		}
		return false
	}
	out := map[string]map[string]bool{}
	for _, m := range methods {
		params := map[string]bool{}
		for _, field := range m.Type.Params.List[min(2, len(m.Type.Params.List)):] { // after ctx, db
			if id, ok := field.Type.(*ast.Ident); ok && structs[id.Name] != nil {
				for _, sf := range structs[id.Name].Fields.List {
					for _, n := range sf.Names {
						params[paramKey(n.Name)] = nullableType(sf.Type)
					}
				}
				continue
			}
			for _, n := range field.Names {
				params[paramKey(n.Name)] = nullableType(field.Type)
			}
		}
		out[m.Name.Name] = params
	}
	return out
}

// functionUnits reads the statements in the bodies of the SQL and PL/pgSQL
// functions of schema public (extensions' own functions aside). PL/pgSQL's
// dynamic SQL is read when it is built from string constants only; the
// functions with dynamic SQL that is not are returned.
func functionUnits(ctx context.Context, t *testing.T, pool *pgxpool.Pool) ([]sqlUnit, []string) {
	t.Helper()
	rows, err := pool.Query(ctx, `
		SELECT p.proname, l.lanname, p.prosrc, pg_get_functiondef(p.oid), p.proisstrict, coalesce(p.proargnames, '{}')
		FROM pg_proc p
		JOIN pg_namespace n ON n.oid = p.pronamespace
		JOIN pg_language l ON l.oid = p.prolang
		WHERE n.nspname = 'public' AND l.lanname IN ('sql', 'plpgsql') AND p.prokind IN ('f', 'p')
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d
		                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
		ORDER BY p.proname`)
	require.NoError(t, err)
	var name, lang, src, def string
	var strict bool
	var argNames []string
	var units []sqlUnit
	var dynamic []string
	_, err = pgx.ForEachRow(rows, []any{&name, &lang, &src, &def, &strict, &argNames}, func() error {
		vars := map[string]bool{}
		for _, a := range argNames {
			vars[strings.ToLower(a)] = true
		}
		texts := []string{src}
		if lang == "plpgsql" {
			var n int
			var err error
			texts, n, err = plpgsqlStatements(def, vars)
			if err != nil {
				return fmt.Errorf("function %s: %w", name, err)
			}
			if n > 0 {
				dynamic = append(dynamic, name)
			}
		}
		unitVars := vars
		nullable := func(p sqlParam) bool { return !strict && (p.Variable || p.Position > 0) }
		for _, text := range texts {
			res, err := pg_query.Parse(text)
			if err != nil {
				return fmt.Errorf("function %s: %w: %s", name, err, text)
			}
			for _, raw := range res.Stmts {
				units = append(units, sqlUnit{Name: "function " + name, Stmt: raw.Stmt, Vars: unitVars, Nullable: nullable})
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, units)
	return units, dynamic
}

// plpgsqlStatements returns the SQL statements of a PL/pgSQL function
// (its CREATE FUNCTION text), adds its variables to vars, and counts the
// dynamic statements it could not resolve to constant text.
func plpgsqlStatements(def string, vars map[string]bool) ([]string, int, error) {
	js, err := pg_query.ParsePlPgSqlToJSON(def)
	if err != nil {
		return nil, 0, err
	}
	var tree any
	if err := json.Unmarshal([]byte(js), &tree); err != nil {
		return nil, 0, err
	}
	consts := map[string][]string{}
	var stmts []string
	unresolved := 0
	exprText := func(v any) (string, bool) {
		m, _ := v.(map[string]any)
		e, _ := m["PLpgSQL_expr"].(map[string]any)
		q, ok := e["query"].(string)
		return q, ok
	}
	// The field of each statement that runs dynamic SQL.
	dynamic := map[string]string{"PLpgSQL_stmt_dynexecute": "query", "PLpgSQL_stmt_dynfors": "query",
		"PLpgSQL_stmt_return_query": "dynquery", "PLpgSQL_stmt_open": "dynquery"}
	// First the variables (datums, in declaration order: a constant may
	// use an earlier one), then the statements.
	var walk func(v any, datums bool)
	walk = func(v any, datums bool) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, datums)
			}
		case map[string]any:
			for key, val := range x {
				inner, _ := val.(map[string]any)
				switch key {
				case "PLpgSQL_var", "PLpgSQL_rec", "PLpgSQL_row":
					if datums {
						name := strings.ToLower(inner["refname"].(string))
						vars[name] = true
						if isConst, _ := inner["isconst"].(bool); isConst {
							if q, ok := exprText(inner["default_val"]); ok {
								if s, ok := constTexts(q, consts); ok {
									consts[name] = s
								}
							}
						}
					}
					continue
				case "PLpgSQL_expr":
					// Mode 0 (RAW_PARSE_DEFAULT) is a whole statement; the
					// others are expressions.
					if mode, _ := inner["parseMode"].(float64); mode == 0 && !datums {
						stmts = append(stmts, inner["query"].(string))
					}
					continue
				}
				if field, ok := dynamic[key]; ok && !datums {
					if q, ok := exprText(inner[field]); ok {
						if s, ok := constTexts(q, consts); ok {
							stmts = append(stmts, s...)
						} else {
							unresolved++
						}
					}
				}
				walk(val, datums)
			}
		}
	}
	walk(tree, true)
	walk(tree, false)
	return stmts, unresolved, nil
}

// constTexts evaluates a PL/pgSQL expression made of string literals,
// constants (consts), || and CASE to every text it can take: a CASE takes
// each of its results (one that yields NULL is left out: the statement
// would not run), so a statement assembled from chosen fragments is
// checked in each of its forms.
func constTexts(expr string, consts map[string][]string) ([]string, bool) {
	res, err := pg_query.Parse("SELECT " + expr)
	if err != nil || len(res.Stmts) != 1 {
		return nil, false
	}
	targets := res.Stmts[0].Stmt.GetSelectStmt().GetTargetList()
	if len(targets) != 1 {
		return nil, false
	}
	const maxForms = 50000
	var eval func(n *pg_query.Node) ([]string, bool)
	eval = func(n *pg_query.Node) ([]string, bool) {
		switch {
		case n.GetAConst() != nil && n.GetAConst().GetIsnull():
			return nil, true
		case n.GetAConst() != nil && n.GetAConst().GetSval() != nil:
			return []string{n.GetAConst().GetSval().GetSval()}, true
		case n.GetColumnRef() != nil && len(n.GetColumnRef().GetFields()) == 1:
			s, ok := consts[strings.ToLower(n.GetColumnRef().GetFields()[0].GetString_().GetSval())]
			return s, ok
		case n.GetAExpr() != nil && opName(n.GetAExpr()) == "||" && n.GetAExpr().GetLexpr() != nil:
			l, ok := eval(n.GetAExpr().GetLexpr())
			if !ok {
				return nil, false
			}
			r, ok := eval(n.GetAExpr().GetRexpr())
			if !ok || len(l)*len(r) > maxForms {
				return nil, false
			}
			out := make([]string, 0, len(l)*len(r))
			for _, a := range l {
				for _, b := range r {
					out = append(out, a+b)
				}
			}
			return out, true
		case n.GetCaseExpr() != nil:
			var out []string
			results := []*pg_query.Node{n.GetCaseExpr().GetDefresult()}
			for _, w := range n.GetCaseExpr().GetArgs() {
				results = append(results, w.GetCaseWhen().GetResult())
			}
			for _, r := range results {
				if r == nil { // no ELSE: NULL
					continue
				}
				forms, ok := eval(r)
				if !ok {
					return nil, false
				}
				for _, f := range forms {
					if !slices.Contains(out, f) {
						out = append(out, f)
					}
				}
			}
			return out, true
		}
		return nil, false
	}
	return eval(targets[0].GetResTarget().GetVal())
}

// snippetUnit is a statement for the rule tests: sqlc.narg parameters and
// the given variables can be NULL.
func snippetUnit(t *testing.T, sql string, vars ...string) []sqlUnit {
	t.Helper()
	res, err := pg_query.Parse(sql)
	require.NoError(t, err)
	v := map[string]bool{}
	for _, name := range vars {
		v[name] = true
	}
	var units []sqlUnit
	for _, raw := range res.Stmts {
		units = append(units, sqlUnit{Name: "snippet", Stmt: raw.Stmt, Vars: v,
			Nullable: func(p sqlParam) bool { return p.Narg || p.Variable }})
	}
	return units
}

// check runs every rule over one statement.
func (c *pgCatalog) check(u sqlUnit) []citusFinding {
	k := &citusChecker{cat: c, unit: u, parent: []int{0}}
	k.walk(u.Stmt, nil)
	for _, r := range k.rels {
		if r.tenant && !r.sets && k.find(r.id) != k.find(0) {
			what := r.table
			if r.alias != r.table {
				what += " " + r.alias
			}
			k.report(ruleTenantFilter, "%s: tenant_id is compared with no value nor with a filtered table's", what)
		}
	}
	return k.out
}

type citusChecker struct {
	cat  *pgCatalog
	unit sqlUnit
	out  []citusFinding
	// A union-find over the relations of the statement; 0 stands for
	// "the tenant is fixed".
	rels   []*relRef
	parent []int
}

// relRef is one relation in a FROM (or an INSERT, UPDATE or DELETE target).
type relRef struct {
	id     int
	table  string // "" for a CTE, subquery or function
	alias  string
	tenant bool
	sets   bool // an INSERT target whose column list has tenant_id
}

// scope is one query level: its relations, CTE names and, in INSERT ... ON
// CONFLICT, the EXCLUDED row.
type scope struct {
	parent   *scope
	rels     []*relRef
	ctes     map[string]bool
	excluded *relRef
}

func (s *scope) isCTE(name string) bool {
	for ; s != nil; s = s.parent {
		if s.ctes[name] {
			return true
		}
	}
	return false
}

func (s *scope) byAlias(alias string) *relRef {
	for ; s != nil; s = s.parent {
		for _, r := range s.rels {
			if r.alias == alias {
				return r
			}
		}
		if alias == "excluded" && s.excluded != nil {
			return s.excluded
		}
	}
	return nil
}

// byColumn resolves an unqualified column to the nearest level's one table
// that has it.
func (k *citusChecker) byColumn(s *scope, column string) *relRef {
	for ; s != nil; s = s.parent {
		var found *relRef
		for _, r := range s.rels {
			if _, ok := k.cat.columns[r.table][column]; ok && r.table != "" {
				if found != nil {
					return nil // ambiguous
				}
				found = r
			}
		}
		if found != nil {
			return found
		}
	}
	return nil
}

func (k *citusChecker) report(rule citusRule, format string, args ...any) {
	f := citusFinding{Unit: k.unit.Name, Rule: rule, Detail: fmt.Sprintf(format, args...)}
	for _, have := range k.out {
		if have == f {
			return
		}
	}
	k.out = append(k.out, f)
}

func (k *citusChecker) find(id int) int {
	for k.parent[id] != id {
		k.parent[id] = k.parent[k.parent[id]]
		id = k.parent[id]
	}
	return id
}

func (k *citusChecker) union(a, b int) { k.parent[k.find(a)] = k.find(b) }

func (k *citusChecker) addRel(s *scope, table, alias string) *relRef {
	r := &relRef{id: len(k.parent), table: table, alias: alias, tenant: k.cat.tenantTables[table]}
	k.parent = append(k.parent, r.id)
	k.rels = append(k.rels, r)
	s.rels = append(s.rels, r)
	return r
}

func (k *citusChecker) addRangeVar(s *scope, rv *pg_query.RangeVar) *relRef {
	alias := rv.GetRelname()
	if rv.GetAlias() != nil {
		alias = rv.GetAlias().GetAliasname()
	}
	table := rv.GetRelname()
	if (rv.GetSchemaname() == "" && s.isCTE(table)) || (rv.GetSchemaname() != "" && rv.GetSchemaname() != "public") {
		table = ""
	}
	return k.addRel(s, table, alias)
}

// addFrom registers a FROM item's relations in s.
func (k *citusChecker) addFrom(s *scope, n *pg_query.Node) {
	switch {
	case n.GetRangeVar() != nil:
		k.addRangeVar(s, n.GetRangeVar())
	case n.GetJoinExpr() != nil:
		k.addFrom(s, n.GetJoinExpr().GetLarg())
		k.addFrom(s, n.GetJoinExpr().GetRarg())
	case n.GetRangeSubselect() != nil && n.GetRangeSubselect().GetAlias() != nil:
		k.addRel(s, "", n.GetRangeSubselect().GetAlias().GetAliasname())
	case n.GetRangeFunction() != nil && n.GetRangeFunction().GetAlias() != nil:
		k.addRel(s, "", n.GetRangeFunction().GetAlias().GetAliasname())
	}
}

func (k *citusChecker) with(w *pg_query.WithClause, s *scope) {
	if w == nil {
		return
	}
	s.ctes = map[string]bool{}
	for _, c := range w.GetCtes() {
		s.ctes[c.GetCommonTableExpr().GetCtename()] = true
	}
	for _, c := range w.GetCtes() {
		k.walk(c.GetCommonTableExpr().GetCtequery(), s)
	}
}

// walk visits a statement or expression in scope s.
func (k *citusChecker) walk(m proto.Message, s *scope) {
	switch n := m.(type) {
	case nil:
		return
	case *pg_query.Node:
		if n == nil {
			return
		}
		if inner := nodeMessage(n); inner != nil {
			k.walk(inner, s)
		}
		return
	case *pg_query.SelectStmt:
		ns := &scope{parent: s}
		k.with(n.GetWithClause(), ns)
		for _, f := range n.GetFromClause() {
			k.addFrom(ns, f)
		}
		eachChild(n, func(ch proto.Message) {
			if ch != proto.Message(n.GetWithClause()) {
				k.walk(ch, ns)
			}
		})
		return
	case *pg_query.InsertStmt:
		ns := &scope{parent: s}
		k.with(n.GetWithClause(), ns)
		target := k.addRangeVar(ns, n.GetRelation())
		for _, col := range n.GetCols() {
			target.sets = target.sets || col.GetResTarget().GetName() == "tenant_id"
		}
		ns.excluded = target
		k.walk(n.GetSelectStmt(), ns)
		if oc := n.GetOnConflictClause(); oc != nil && oc.GetAction() == pg_query.OnConflictAction_ONCONFLICT_UPDATE {
			for _, t := range oc.GetTargetList() {
				rt := t.GetResTarget()
				for _, call := range k.mutableCalls(rt.GetVal(), ns) {
					k.report(ruleConflictSet, "ON CONFLICT DO UPDATE SET %s calls %s", rt.GetName(), call)
				}
			}
			for _, call := range k.mutableCalls(oc.GetWhereClause(), ns) {
				k.report(ruleConflictSet, "ON CONFLICT DO UPDATE ... WHERE calls %s", call)
			}
			for _, t := range oc.GetTargetList() {
				k.walk(t, ns)
			}
			k.walk(oc.GetWhereClause(), ns)
		}
		for _, r := range n.GetReturningList() {
			k.walk(r, ns)
		}
		return
	case *pg_query.UpdateStmt:
		ns := &scope{parent: s}
		k.with(n.GetWithClause(), ns)
		k.addRangeVar(ns, n.GetRelation())
		for _, f := range n.GetFromClause() {
			k.addFrom(ns, f)
		}
		for _, t := range n.GetTargetList() {
			k.modifyExpr(t.GetResTarget().GetVal(), ns, "UPDATE SET "+t.GetResTarget().GetName())
		}
		k.modifyExpr(n.GetWhereClause(), ns, "UPDATE ... WHERE")
		eachChild(n, func(ch proto.Message) {
			if ch != proto.Message(n.GetWithClause()) && ch != proto.Message(n.GetRelation()) {
				k.walk(ch, ns)
			}
		})
		return
	case *pg_query.DeleteStmt:
		ns := &scope{parent: s}
		k.with(n.GetWithClause(), ns)
		k.addRangeVar(ns, n.GetRelation())
		for _, f := range n.GetUsingClause() {
			k.addFrom(ns, f)
		}
		k.modifyExpr(n.GetWhereClause(), ns, "DELETE ... WHERE")
		eachChild(n, func(ch proto.Message) {
			if ch != proto.Message(n.GetWithClause()) && ch != proto.Message(n.GetRelation()) {
				k.walk(ch, ns)
			}
		})
		return
	case *pg_query.RangeVar:
		return // registered by addFrom
	case *pg_query.JoinExpr:
		k.joinExpr(n, s)
	case *pg_query.A_Expr:
		k.equality(n, s)
	}
	eachChild(m, func(ch proto.Message) { k.walk(ch, s) })
}

// joinExpr checks an outer join's ON clause for parameters that can be
// NULL (rule 3) and records USING (tenant_id) as an equality (rule 4).
func (k *citusChecker) joinExpr(j *pg_query.JoinExpr, s *scope) {
	switch j.GetJointype() {
	case pg_query.JoinType_JOIN_LEFT, pg_query.JoinType_JOIN_RIGHT, pg_query.JoinType_JOIN_FULL:
		k.nullableParams(j.GetQuals(), func(p string) {
			k.report(ruleOuterJoinNull, "the ON clause of an outer join compares %s, which can be NULL", p)
		})
	}
	for _, u := range j.GetUsingClause() {
		if u.GetString_().GetSval() != "tenant_id" {
			continue
		}
		var ids []int
		var collect func(n *pg_query.Node)
		collect = func(n *pg_query.Node) {
			switch {
			case n.GetRangeVar() != nil:
				alias := n.GetRangeVar().GetRelname()
				if a := n.GetRangeVar().GetAlias(); a != nil {
					alias = a.GetAliasname()
				}
				if r := s.byAlias(alias); r != nil {
					ids = append(ids, r.id)
				}
			case n.GetJoinExpr() != nil:
				collect(n.GetJoinExpr().GetLarg())
				collect(n.GetJoinExpr().GetRarg())
			}
		}
		collect(j.GetLarg())
		collect(j.GetRarg())
		for i := 1; i < len(ids); i++ {
			k.union(ids[0], ids[i])
		}
	}
}

// nullableParams calls found for each parameter under n that can be NULL,
// except inside a COALESCE whose last argument is not one.
func (k *citusChecker) nullableParams(n *pg_query.Node, found func(string)) {
	var visit func(m proto.Message)
	visit = func(m proto.Message) {
		if node, ok := m.(*pg_query.Node); ok {
			if p, ok := k.param(node); ok {
				if k.unit.Nullable(p) {
					found(p.describe())
				}
				return
			}
			if c := node.GetCoalesceExpr(); c != nil {
				args := c.GetArgs()
				if p, ok := k.param(args[len(args)-1]); !ok || !k.unit.Nullable(p) {
					return
				}
			}
		}
		eachChild(m, visit)
	}
	if n != nil {
		visit(n)
	}
}

func (p sqlParam) describe() string {
	switch {
	case p.Narg:
		return "sqlc.narg(" + p.Name + ")"
	case p.Position > 0:
		return fmt.Sprintf("$%d", p.Position)
	case p.Variable:
		return "variable " + p.Name
	}
	return "@" + p.Name
}

// param reports whether n (under any casts) is a parameter.
func (k *citusChecker) param(n *pg_query.Node) (sqlParam, bool) {
	for n.GetTypeCast() != nil {
		n = n.GetTypeCast().GetArg()
	}
	switch {
	case n.GetParamRef() != nil:
		return sqlParam{Position: n.GetParamRef().GetNumber()}, true
	case n.GetAExpr() != nil && opName(n.GetAExpr()) == "@" && n.GetAExpr().GetLexpr() == nil:
		// sqlc's @name: PostgreSQL reads it as the prefix operator @, and
		// @name::type as @(name::type).
		r := n.GetAExpr().GetRexpr()
		for r.GetTypeCast() != nil {
			r = r.GetTypeCast().GetArg()
		}
		if name, ok := singleName(r); ok {
			return sqlParam{Name: name}, true
		}
	case n.GetFuncCall() != nil:
		fn := funcName(n.GetFuncCall())
		if fn != "sqlc.arg" && fn != "sqlc.narg" || len(n.GetFuncCall().GetArgs()) != 1 {
			return sqlParam{}, false
		}
		arg := n.GetFuncCall().GetArgs()[0]
		name, ok := singleName(arg)
		if !ok && arg.GetAConst().GetSval() != nil {
			name, ok = arg.GetAConst().GetSval().GetSval(), true
		}
		return sqlParam{Name: name, Narg: fn == "sqlc.narg"}, ok
	case n.GetColumnRef() != nil:
		fields := n.GetColumnRef().GetFields()
		if first := fields[0].GetString_(); first != nil && k.unit.Vars[strings.ToLower(first.GetSval())] {
			var parts []string
			for _, f := range fields {
				parts = append(parts, f.GetString_().GetSval())
			}
			return sqlParam{Name: strings.Join(parts, "."), Variable: true}, true
		}
	}
	return sqlParam{}, false
}

// equality records `x.tenant_id = <value>` and `x.tenant_id = y.tenant_id`.
func (k *citusChecker) equality(e *pg_query.A_Expr, s *scope) {
	if e.GetKind() != pg_query.A_Expr_Kind_AEXPR_OP || opName(e) != "=" || e.GetLexpr() == nil {
		return
	}
	l, lok := k.tenantColumn(e.GetLexpr(), s)
	r, rok := k.tenantColumn(e.GetRexpr(), s)
	switch {
	case lok && rok:
		if l != nil && r != nil {
			k.union(l.id, r.id)
		}
	case lok && l != nil && k.fixedValue(e.GetRexpr()):
		k.union(l.id, 0)
	case rok && r != nil && k.fixedValue(e.GetLexpr()):
		k.union(r.id, 0)
	}
}

// tenantColumn reports whether n is a tenant_id column and, when it can
// tell, of which relation.
func (k *citusChecker) tenantColumn(n *pg_query.Node, s *scope) (*relRef, bool) {
	for n.GetTypeCast() != nil {
		n = n.GetTypeCast().GetArg()
	}
	cr := n.GetColumnRef()
	if cr == nil {
		return nil, false
	}
	if _, isParam := k.param(n); isParam {
		return nil, false
	}
	fields := cr.GetFields()
	if fields[len(fields)-1].GetString_().GetSval() != "tenant_id" {
		return nil, false
	}
	var r *relRef
	switch len(fields) {
	case 1:
		r = k.byColumn(s, "tenant_id")
	case 2:
		r = s.byAlias(fields[0].GetString_().GetSval())
	}
	if r == nil || !r.tenant {
		return nil, true
	}
	return r, true
}

// fixedValue reports whether n reads no column: parameters, constants,
// variables and function calls of those.
func (k *citusChecker) fixedValue(n *pg_query.Node) bool {
	fixed := true
	var visit func(m proto.Message)
	visit = func(m proto.Message) {
		if node, ok := m.(*pg_query.Node); ok {
			if _, ok := k.param(node); ok {
				return
			}
			if node.GetColumnRef() != nil || node.GetSubLink() != nil {
				fixed = false
				return
			}
		}
		eachChild(m, visit)
	}
	visit(n)
	return fixed
}

// modifyExpr applies rules 2 and 5 to an UPDATE's SET expression or an
// UPDATE's or DELETE's WHERE clause. Like Citus, it does not look into
// subqueries.
func (k *citusChecker) modifyExpr(n *pg_query.Node, s *scope, where string) {
	var visit func(m proto.Message)
	visit = func(m proto.Message) {
		node, ok := m.(*pg_query.Node)
		if !ok {
			eachChild(m, visit)
			return
		}
		if _, ok := k.param(node); ok || node.GetSubLink() != nil || node.GetSelectStmt() != nil {
			return
		}
		if node.GetCaseExpr() != nil || node.GetCoalesceExpr() != nil {
			for _, call := range k.mutableCalls(node, s) {
				what := "CASE"
				if node.GetCoalesceExpr() != nil {
					what = "COALESCE"
				}
				k.report(ruleCaseCoalesce, "%s: %s calls %s", where, what, call)
			}
			return
		}
		if vol, call := k.volatility(node, s); vol == 'v' {
			k.report(ruleUpdateCall, "%s calls VOLATILE %s", where, call)
			return
		} else if vol == 's' && k.readsColumn(node) {
			k.report(ruleUpdateCall, "%s: STABLE %s is applied to a column", where, call)
			return
		}
		eachChild(m, visit)
	}
	if n != nil {
		visit(n)
	}
}

// readsColumn reports whether n reads a column (not a parameter nor a
// variable).
func (k *citusChecker) readsColumn(n *pg_query.Node) bool {
	found := false
	var visit func(m proto.Message)
	visit = func(m proto.Message) {
		if node, ok := m.(*pg_query.Node); ok {
			if _, ok := k.param(node); ok {
				return
			}
			if node.GetColumnRef() != nil {
				found = true
				return
			}
		}
		eachChild(m, visit)
	}
	visit(n)
	return found
}

// mutableCalls lists the calls under n that are not IMMUTABLE, as
// contain_mutable_functions finds them (subqueries included).
func (k *citusChecker) mutableCalls(n *pg_query.Node, s *scope) []string {
	var calls []string
	var visit func(m proto.Message, s *scope)
	visit = func(m proto.Message, s *scope) {
		node, ok := m.(*pg_query.Node)
		if !ok {
			eachChild(m, func(ch proto.Message) { visit(ch, s) })
			return
		}
		if _, ok := k.param(node); ok {
			return
		}
		if node.GetSelectStmt() != nil {
			s = nil // a subquery: its columns are not typed here
		}
		if vol, call := k.volatility(node, s); vol == 'v' || vol == 's' {
			calls = append(calls, call)
		}
		eachChild(m, func(ch proto.Message) { visit(ch, s) })
	}
	if n != nil {
		visit(n, s)
	}
	return calls
}

// volatility returns the volatility ('i', 's', 'v') of the call n makes
// itself (a function, an operator with typed operands, CURRENT_TIMESTAMP
// and the like) and how to name it; 0 when n is no call or cannot be
// judged.
func (k *citusChecker) volatility(n *pg_query.Node, s *scope) (byte, string) {
	switch {
	case n.GetSqlvalueFunction() != nil:
		op := strings.TrimPrefix(n.GetSqlvalueFunction().GetOp().String(), "SVFOP_")
		return 's', strings.ReplaceAll(op, "_", " ")
	case n.GetFuncCall() != nil:
		fc := n.GetFuncCall()
		cands := k.candidates(fc, s)
		if len(cands) == 0 {
			return 0, ""
		}
		vol := byte('i')
		for _, c := range cands {
			if c.volatile == 'v' || (c.volatile == 's' && vol == 'i') {
				vol = c.volatile
			}
		}
		return vol, funcName(fc) + "()"
	case n.GetAExpr() != nil:
		e := n.GetAExpr()
		if e.GetKind() != pg_query.A_Expr_Kind_AEXPR_OP || (opName(e) == "@" && e.GetLexpr() == nil) {
			return 0, ""
		}
		var left uint32
		if e.GetLexpr() != nil {
			if left = k.typeOf(e.GetLexpr(), s); left == 0 {
				return 0, ""
			}
		}
		right := k.typeOf(e.GetRexpr(), s)
		if right == 0 {
			return 0, ""
		}
		op, ok := k.cat.ops[pgOpKey{name: opName(e), left: left, right: right}]
		if !ok {
			return 0, ""
		}
		return op.volatile, "operator " + op.signature
	}
	return 0, ""
}

// candidates returns the functions a call may resolve to: by name and
// number of arguments, narrowed by the argument types it can tell.
func (k *citusChecker) candidates(fc *pg_query.FuncCall, s *scope) []pgFunc {
	names := fc.GetFuncname()
	if len(names) == 2 && names[0].GetString_().GetSval() == "sqlc" {
		return nil
	}
	nargs := len(fc.GetArgs())
	var byCount []pgFunc
	for _, f := range k.cat.funcs[names[len(names)-1].GetString_().GetSval()] {
		if nargs == len(f.args) || (nargs < len(f.args) && nargs >= len(f.args)-f.defaults) ||
			(f.variadic && nargs >= len(f.args)-1) {
			byCount = append(byCount, f)
		}
	}
	var byType []pgFunc
	for _, f := range byCount {
		fits := true
		for i, a := range fc.GetArgs() {
			if i >= len(f.args) || a.GetNamedArgExpr() != nil {
				break
			}
			if t := k.typeOf(a, s); t != 0 && t != f.args[i] && !k.cat.pseudo[f.args[i]] {
				fits = false
			}
		}
		if fits {
			byType = append(byType, f)
		}
	}
	if len(byType) > 0 {
		return byType
	}
	return byCount
}

// typeOf returns the type of expression n when it can tell, else 0.
func (k *citusChecker) typeOf(n *pg_query.Node, s *scope) uint32 {
	typ := func(name string) uint32 { return k.cat.types[name] }
	switch {
	case n == nil:
		return 0
	case n.GetTypeCast() != nil:
		tn := n.GetTypeCast().GetTypeName()
		names := tn.GetNames()
		name := names[len(names)-1].GetString_().GetSval()
		if len(tn.GetArrayBounds()) > 0 {
			name += "[]"
		}
		return typ(name)
	case n.GetAConst() != nil:
		c := n.GetAConst()
		switch {
		case c.GetIval() != nil:
			return typ("int4")
		case c.GetFval() != nil:
			return typ("numeric")
		case c.GetBoolval() != nil:
			return typ("bool")
		}
	case n.GetColumnRef() != nil:
		if _, ok := k.param(n); ok || s == nil {
			return 0
		}
		fields := n.GetColumnRef().GetFields()
		var r *relRef
		col := fields[len(fields)-1].GetString_().GetSval()
		switch len(fields) {
		case 1:
			r = k.byColumn(s, col)
		case 2:
			r = s.byAlias(fields[0].GetString_().GetSval())
		}
		if r != nil {
			return k.cat.columns[r.table][col]
		}
	case n.GetFuncCall() != nil:
		var result uint32
		for _, f := range k.candidates(n.GetFuncCall(), s) {
			if (result != 0 && f.result != result) || k.cat.pseudo[f.result] {
				return 0
			}
			result = f.result
		}
		return result
	case n.GetAExpr() != nil:
		e := n.GetAExpr()
		if opName(e) == "@" && e.GetLexpr() == nil {
			return k.typeOf(e.GetRexpr(), s) // @name::type
		}
		if e.GetKind() != pg_query.A_Expr_Kind_AEXPR_OP {
			return 0
		}
		var left uint32
		if e.GetLexpr() != nil {
			if left = k.typeOf(e.GetLexpr(), s); left == 0 {
				return 0
			}
		}
		if right := k.typeOf(e.GetRexpr(), s); right != 0 {
			return k.cat.ops[pgOpKey{name: opName(e), left: left, right: right}].result
		}
	case n.GetCoalesceExpr() != nil:
		return k.firstType(n.GetCoalesceExpr().GetArgs(), s)
	case n.GetMinMaxExpr() != nil:
		return k.firstType(n.GetMinMaxExpr().GetArgs(), s)
	case n.GetCaseExpr() != nil:
		args := []*pg_query.Node{n.GetCaseExpr().GetDefresult()}
		for _, w := range n.GetCaseExpr().GetArgs() {
			args = append(args, w.GetCaseWhen().GetResult())
		}
		return k.firstType(args, s)
	case n.GetSqlvalueFunction() != nil:
		switch n.GetSqlvalueFunction().GetOp() {
		case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
			return typ("timestamptz")
		case pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
			return typ("timestamp")
		case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
			return typ("date")
		}
	}
	return 0
}

func (k *citusChecker) firstType(args []*pg_query.Node, s *scope) uint32 {
	for _, a := range args {
		if t := k.typeOf(a, s); t != 0 {
			return t
		}
	}
	return 0
}

func opName(e *pg_query.A_Expr) string {
	names := e.GetName()
	if len(names) == 0 {
		return ""
	}
	return names[len(names)-1].GetString_().GetSval()
}

func funcName(fc *pg_query.FuncCall) string {
	var parts []string
	for _, n := range fc.GetFuncname() {
		parts = append(parts, n.GetString_().GetSval())
	}
	return strings.Join(parts, ".")
}

func singleName(n *pg_query.Node) (string, bool) {
	if cr := n.GetColumnRef(); cr != nil && len(cr.GetFields()) == 1 && cr.GetFields()[0].GetString_() != nil {
		return cr.GetFields()[0].GetString_().GetSval(), true
	}
	return "", false
}

// nodeMessage returns the message a pg_query Node wraps.
func nodeMessage(n *pg_query.Node) proto.Message {
	var inner proto.Message
	n.ProtoReflect().Range(func(_ protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		inner = v.Message().Interface()
		return false
	})
	return inner
}

// eachChild calls f for each message directly inside m (list elements
// included), Nodes still wrapped.
func eachChild(m proto.Message, f func(proto.Message)) {
	if node, ok := m.(*pg_query.Node); ok {
		if inner := nodeMessage(node); inner != nil {
			eachChild(inner, f)
		}
		return
	}
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				f(l.Get(i).Message().Interface())
			}
			return true
		}
		if !fd.IsMap() {
			f(v.Message().Interface())
		}
		return true
	})
}
