package httpapi

import (
	"cmp"
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/patch"
)

// Info describes the API for the OpenAPI document.
type Info struct {
	Title       string
	Version     string
	Description string
}

// OpenAPI builds the OpenAPI 3.1 document for routes. The output depends
// only on its arguments (maps marshal with sorted keys, and every list
// follows the route table's order or is sorted), so the document served
// and the one checked in tests are the same bytes.
//
// A route registered twice for the same method and path is a programming
// error and panics, like a route without a permission in Router.Handle.
func OpenAPI(info Info, routes []Route) map[string]any {
	g := newSchemaGen()
	// The error body is reflected from the type NewErrorHandler sends, so
	// the two cannot drift apart either.
	problemType := reflect.TypeFor[problem]()
	g.pinned[problemType] = "Problem"
	problemSchema := g.schema(problemType)

	paths := map[string]any{}
	opIDs := map[string]bool{}
	tagSet := map[string]bool{}
	for _, rt := range routes {
		p, pathParams := openAPIPath(rt.Path)
		method := strings.ToLower(rt.Method)
		item, ok := paths[p].(map[string]any)
		if !ok {
			item = map[string]any{}
			paths[p] = item
		}
		if _, dup := item[method]; dup {
			panic(fmt.Sprintf("httpapi: route %s %s is registered twice", rt.Method, rt.Path))
		}
		item[method] = operation(g, rt, pathParams, uniqueID(opIDs, operationID(method, p)), problemSchema)
		if rt.Tag != "" {
			tagSet[rt.Tag] = true
		}
	}

	tags := make([]any, 0, len(tagSet))
	for _, name := range slices.Sorted(maps.Keys(tagSet)) {
		tags = append(tags, map[string]any{"name": name})
	}
	infoObj := map[string]any{"title": info.Title, "version": info.Version}
	if info.Description != "" {
		infoObj["description"] = info.Description
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    infoObj,
		"paths":   paths,
		"tags":    tags,
		"components": map[string]any{
			"schemas": g.components(),
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
	}
}

func operation(g *schemaGen, rt Route, pathParams []string, id string, problemSchema map[string]any) map[string]any {
	op := map[string]any{"operationId": id}
	if rt.Summary != "" {
		op["summary"] = rt.Summary
	}
	if rt.Tag != "" {
		op["tags"] = []string{rt.Tag}
	}
	if rt.Permission == Public {
		// An empty list overrides any default: no credentials at all.
		op["security"] = []any{}
	} else {
		op["security"] = []any{map[string]any{"bearer": []string{}}}
		op["x-permission"] = rt.Permission
	}

	params := make([]any, 0, len(pathParams)+len(rt.Query))
	for _, name := range pathParams {
		schema := map[string]any{"type": "string"}
		if name == "id" || strings.HasSuffix(name, "_id") {
			schema["format"] = "uuid"
		}
		params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": schema})
	}
	var patterns []any
	var patternDocs []string
	for _, q := range rt.Query {
		typ := q.Type
		if typ == "" {
			typ = "string"
		}
		if prefix, ok := strings.CutSuffix(q.Name, ".*"); ok {
			// OpenAPI has no wildcard parameter names, so a prefix that
			// admits any key is described in prose and in an extension.
			pat := map[string]any{"name": q.Name, "type": typ}
			doc := "`" + prefix + ".{key}` (" + typ + ")"
			if q.Description != "" {
				pat["description"] = q.Description
				doc += ": " + q.Description
			}
			patterns = append(patterns, pat)
			patternDocs = append(patternDocs, "- "+doc)
			continue
		}
		p := map[string]any{"name": q.Name, "in": "query", "schema": map[string]any{"type": typ}}
		if q.Description != "" {
			p["description"] = q.Description
		}
		params = append(params, p)
	}
	if rt.IfMatch {
		params = append(params, map[string]any{
			"name": HeaderIfMatch, "in": "header", "required": true, "schema": map[string]any{"type": "string"},
			"description": "The ETag the object was read with (or *): 428 without it, 412 when the object has " +
				"changed since; an unknown object is 404 whatever it says.",
		})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if len(patterns) > 0 {
		op["x-query-patterns"] = patterns
		op["description"] = "Also accepts query parameters matching these patterns:\n\n" + strings.Join(patternDocs, "\n")
	}

	if rt.Request != nil {
		op["requestBody"] = map[string]any{
			"required": true, // DecodeJSON refuses an empty body
			"content":  map[string]any{"application/json": map[string]any{"schema": g.schema(bodyType(rt.Request))}},
		}
	}
	status := rt.Status
	if status == 0 {
		status = 200
	}
	success := map[string]any{"description": statusText(status)}
	if rt.Response != nil && status != 204 {
		success["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(bodyType(rt.Response))}}
	}
	if len(rt.Produces) > 0 {
		content, _ := success["content"].(map[string]any)
		if content == nil {
			content = map[string]any{}
		}
		for _, mt := range rt.Produces {
			// Text is a string; any other body is bytes, which OpenAPI
			// 3.1 describes by leaving the schema out.
			media := map[string]any{}
			if strings.HasPrefix(mt, "text/") {
				media["schema"] = map[string]any{"type": "string"}
			}
			content[mt] = media
		}
		success["content"] = content
	}
	op["responses"] = map[string]any{
		strconv.Itoa(status): success,
		"default": map[string]any{
			"description": "The request failed; the body says why.",
			"content":     map[string]any{ContentTypeProblem: map[string]any{"schema": problemSchema}},
		},
	}
	return op
}

// bodyType is the type of a body value; a pointer stands for its element,
// since a body is never null.
func bodyType(v any) reflect.Type {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// openAPIPath turns a Fiber path (/customers/:id, /range/:from-:to,
// /items/:id<int>?) into an OpenAPI template and lists its parameters in
// order. OpenAPI path parameters are always required, so Fiber's optional
// marker is dropped; wildcards (* and +) are not used by any route and are
// left as they are.
func openAPIPath(p string) (string, []string) {
	var b strings.Builder
	var params []string
	for i := 0; i < len(p); i++ {
		if p[i] != ':' {
			b.WriteByte(p[i])
			continue
		}
		j := i + 1
		for j < len(p) && isParamByte(p[j]) {
			j++
		}
		name := p[i+1 : j]
		if j < len(p) && p[j] == '<' { // constraint such as <int> or <regex(...)>
			if end := strings.IndexByte(p[j:], '>'); end >= 0 {
				j += end + 1
			}
		}
		if j < len(p) && p[j] == '?' {
			j++
		}
		b.WriteString("{" + name + "}")
		params = append(params, name)
		i = j - 1
	}
	if b.Len() == 0 {
		return "/", params
	}
	return b.String(), params
}

func isParamByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// operationID derives an ID from the method and the templated path:
// get /v1/customers/{id} is get_v1_customers_id.
func operationID(method, p string) string {
	parts := []string{method}
	parts = append(parts, strings.FieldsFunc(p, func(r rune) bool { return r > 0x7f || !isParamByte(byte(r)) })...)
	return strings.Join(parts, "_")
}

// uniqueID returns id, or id with a numeric suffix when an earlier route
// already took it (/a/{b} and /a/b both give get_a_b).
func uniqueID(used map[string]bool, id string) string {
	candidate := id
	for n := 2; used[candidate]; n++ {
		candidate = id + "_" + strconv.Itoa(n)
	}
	used[candidate] = true
	return candidate
}

// schemaGen turns Go types into JSON Schema (2020-12, as OpenAPI 3.1 uses)
// following the encoding/json rules that encode our responses; the strict
// json v2 decoder agrees with them for the tags we use. Named struct types
// become components referenced by $ref. Their names are settled only once
// every type is known, so a clash renames every type involved, whatever
// the order they were met in.
type schemaGen struct {
	defs    map[reflect.Type]map[string]any
	order   []reflect.Type // named structs in the order they were met
	refs    []pendingRef
	pinned  map[reflect.Type]string
	walking map[reflect.Type]bool // named non-struct types being expanded
}

// pendingRef is a {"$ref": ...} whose target name is filled in by components.
type pendingRef struct {
	schema map[string]any
	typ    reflect.Type
}

func newSchemaGen() *schemaGen {
	return &schemaGen{
		defs:    map[reflect.Type]map[string]any{},
		pinned:  map[reflect.Type]string{},
		walking: map[reflect.Type]bool{},
	}
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch {
	case t == reflect.TypeFor[time.Time]():
		return map[string]any{"type": "string", "format": "date-time"}
	case t == reflect.TypeFor[uuid.UUID]():
		return map[string]any{"type": "string", "format": "uuid"}
	case t == reflect.TypeFor[json.RawMessage]():
		return map[string]any{}
	case isOptional(t):
		// PATCH: null clears the field.
		f, _ := t.FieldByName("Value")
		return nullable(g.schema(f.Type.Elem()))
	case t.Kind() == reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case implements(t, reflect.TypeFor[json.Marshaler]()):
		return map[string]any{} // its own encoding; the shape is unknown
	case implements(t, reflect.TypeFor[encoding.TextMarshaler]()):
		return map[string]any{"type": "string"}
	}

	if t.Name() != "" && t.Kind() != reflect.Struct {
		// A named slice or map can contain itself (type Tree []Tree).
		// Named structs cut such cycles with $ref; these cannot, so the
		// inner occurrence is left as any.
		if g.walking[t] {
			return map[string]any{}
		}
		g.walking[t] = true
		defer delete(g.walking, t)
	}

	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Int32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Int, reflect.Int8, reflect.Int16:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32:
		return map[string]any{"type": "number", "format": "float"}
	case reflect.Float64:
		return map[string]any{"type": "number", "format": "double"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !implements(t.Elem(), reflect.TypeFor[json.Marshaler]()) &&
			!implements(t.Elem(), reflect.TypeFor[encoding.TextMarshaler]()) {
			return map[string]any{"type": "string", "format": "byte"} // base64
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem()), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			if !implements(t.Key(), reflect.TypeFor[encoding.TextMarshaler]()) {
				return map[string]any{} // encoding/json refuses such maps
			}
		}
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.structSchema(t)
		}
		ref := map[string]any{"$ref": ""}
		g.refs = append(g.refs, pendingRef{schema: ref, typ: t})
		if _, seen := g.defs[t]; !seen {
			g.defs[t] = nil // placeholder, so a self-reference stops here
			g.order = append(g.order, t)
			g.defs[t] = g.structSchema(t)
		}
		return ref
	}
	// Interfaces may hold anything; channels, funcs and complex numbers do
	// not encode at all.
	return map[string]any{}
}

func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range jsonFields(t) {
		var s map[string]any
		if f.quoted {
			s = quotedSchema(f.typ)
		}
		if s == nil {
			s = g.schema(f.typ)
		}
		props[f.name] = s
		if !f.optional {
			required = append(required, f.name)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// quotedSchema is the schema of a `json:",string"` field, or nil when the
// option does not apply to its type.
func quotedSchema(t reflect.Type) map[string]any {
	ptr := t.Kind() == reflect.Pointer
	if ptr {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
	default:
		return nil
	}
	s := map[string]any{"type": "string"}
	if ptr {
		return nullable(s)
	}
	return s
}

// components names every named struct and fills in the $refs.
func (g *schemaGen) components() map[string]any {
	names := g.names()
	for _, r := range g.refs {
		r.schema["$ref"] = "#/components/schemas/" + names[r.typ]
	}
	out := make(map[string]any, len(g.defs))
	for t, s := range g.defs {
		out[names[t]] = s
	}
	return out
}

// names gives each named struct its Go type name; types of different
// packages that share a name are all prefixed with their package name
// (then with the whole package path), and a pinned name is kept as is.
func (g *schemaGen) names() map[reflect.Type]string {
	groups := map[string][]reflect.Type{}
	for _, t := range g.order {
		base := g.pinned[t]
		if base == "" {
			base = componentName(t.Name())
		}
		groups[base] = append(groups[base], t)
	}
	names := map[reflect.Type]string{}
	for base, ts := range groups {
		if len(ts) == 1 {
			names[ts[0]] = base
			continue
		}
		prefixed := map[string]int{}
		for _, t := range ts {
			if g.pinned[t] == "" {
				prefixed[path.Base(t.PkgPath())+"."+base]++
			}
		}
		for _, t := range ts {
			switch {
			case g.pinned[t] != "":
				names[t] = base
			case prefixed[path.Base(t.PkgPath())+"."+base] == 1:
				names[t] = path.Base(t.PkgPath()) + "." + base
			default:
				names[t] = componentName(t.PkgPath()) + "." + base
			}
		}
	}
	// Types declared inside functions share their package path and name;
	// number them in the order they were met, which is deterministic.
	used := map[string]bool{}
	for _, t := range g.order {
		name := names[t]
		for n := 2; used[name]; n++ {
			name = names[t] + "_" + strconv.Itoa(n)
		}
		used[name] = true
		names[t] = name
	}
	return names
}

// componentName makes a Go type name fit the component key pattern
// ^[a-zA-Z0-9.\-_]+$: package paths in type arguments are shortened to
// their last element, so page[github.com/x/customer.item] becomes
// page_customer.item.
func componentName(name string) string {
	var b strings.Builder
	start := 0 // where the current type argument began in b
	for _, r := range name {
		switch {
		case r == '/':
			s := b.String()[:start]
			b.Reset()
			b.WriteString(s)
		case r == '.' || r == '-' || r == '_' || r < 0x80 && isParamByte(byte(r)):
			b.WriteRune(r)
		default:
			if s := b.String(); s != "" && !strings.HasSuffix(s, "_") {
				b.WriteByte('_')
			}
			start = b.Len()
		}
	}
	return strings.Trim(b.String(), "_")
}

// nullable adds null to a schema's accepted values: as a type list when
// it has a type, else as a oneOf beside a $ref.
func nullable(s map[string]any) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = v
	}
	switch typ := s["type"].(type) {
	case string:
		out["type"] = []string{typ, "null"}
		return out
	case []string:
		if !slices.Contains(typ, "null") {
			out["type"] = append(slices.Clone(typ), "null")
		}
		return out
	}
	if len(s) == 0 {
		return out // any already admits null
	}
	if _, ok := s["$ref"]; ok {
		// Keep the pending ref map itself, so components can fill it in.
		return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
	}
	if alts, ok := s["oneOf"].([]any); ok && slices.ContainsFunc(alts, isNullSchema) {
		return out
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

func isNullSchema(s any) bool {
	m, ok := s.(map[string]any)
	return ok && len(m) == 1 && m["type"] == "null"
}

func isOptional(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.PkgPath() == reflect.TypeFor[patch.Field[int]]().PkgPath() &&
		strings.HasPrefix(t.Name(), "Field[")
}

// implements reports whether t or *t has the method set of iface:
// encoding/json also uses pointer methods of addressable values.
func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface)
}

// jsonField is a struct field as encoding/json sees it.
type jsonField struct {
	name   string
	index  []int
	typ    reflect.Type
	tagged bool
	quoted bool // `json:",string"`
	// optional fields may be missing from a body: omitempty or omitzero,
	// Optional, and fields promoted through an embedded pointer (absent
	// when it is nil). A plain pointer field is always written (as null
	// when nil), so it is required and nullable.
	optional bool
}

// jsonFields lists t's JSON fields in encoding/json's order, flattening
// embedded structs and resolving name clashes as it does: the shallowest
// field wins, then the only tagged one; otherwise all are dropped.
func jsonFields(t reflect.Type) []jsonField {
	var all []jsonField
	var walk func(t reflect.Type, index []int, viaPointer bool, chain []reflect.Type)
	walk = func(t reflect.Type, index []int, viaPointer bool, chain []reflect.Type) {
		for i := range t.NumField() {
			sf := t.Field(i)
			ft := sf.Type
			if ft.Name() == "" && ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if sf.Anonymous {
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(slices.Clone(index), i)
			if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
				if !slices.Contains(chain, ft) { // type A struct{ *A } would never end
					walk(ft, idx, viaPointer || sf.Type.Kind() == reflect.Pointer, append(chain, ft))
				}
				continue
			}
			optsList := strings.Split(opts, ",")
			all = append(all, jsonField{
				name:   cmp.Or(name, sf.Name),
				index:  idx,
				typ:    sf.Type,
				tagged: name != "",
				quoted: slices.Contains(optsList, "string"),
				optional: viaPointer || slices.Contains(optsList, "omitempty") || slices.Contains(optsList, "omitzero") ||
					isOptional(sf.Type),
			})
		}
	}
	walk(t, nil, false, []reflect.Type{t})

	byName := map[string][]jsonField{}
	for _, f := range all {
		byName[f.name] = append(byName[f.name], f)
	}
	var out []jsonField
	for _, fs := range byName {
		if f, ok := dominantField(fs); ok {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b jsonField) int { return slices.Compare(a.index, b.index) })
	return out
}

func dominantField(fs []jsonField) (jsonField, bool) {
	depth := len(fs[0].index)
	for _, f := range fs {
		depth = min(depth, len(f.index))
	}
	var top, tagged []jsonField
	for _, f := range fs {
		if len(f.index) == depth {
			top = append(top, f)
			if f.tagged {
				tagged = append(tagged, f)
			}
		}
	}
	switch {
	case len(top) == 1:
		return top[0], true
	case len(tagged) == 1:
		return tagged[0], true
	}
	return jsonField{}, false
}
