package httpapi

// The OpenAPI 3.1 description is built from the route table. Body schemas
// are reflected by github.com/invopop/jsonschema: a maintained JSON Schema
// 2020-12 reflector (the dialect OpenAPI 3.1 uses), with hooks at exactly
// the points this API needs (Namer for component names, Mapper for the
// types that encode as strings, JSONSchemaAlias for patch.Field). Of the
// alternatives, kin-openapi's openapi3gen (already a test dependency)
// writes OpenAPI 3.0 schemas ("nullable": true) that 3.1 no longer has,
// and swaggest/openapi-go would replace the route table as the source of
// operations. What the reflector cannot know from Go types, this file
// adds: null for pointers and Optional, which members a PATCH may leave
// out, and what a body type says of its own fields (Documented).

import (
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/invopop/jsonschema"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/validation"
)

// Info describes the API for the OpenAPI document.
type Info struct {
	Title       string
	Version     string
	Description string
}

// FieldDoc says of one JSON member what its Go type cannot: the values a
// string takes (the list its validation.OneOf checks against), a format,
// or, for a member typed any or json.RawMessage, the shape it always has.
type FieldDoc struct {
	// Enum lists the accepted values; on an array, those of its items.
	Enum []string
	// Format and Pattern are JSON Schema's (e.g. "date", "email").
	Format  string
	Pattern string
	// Like is a value of the type the member really holds; its schema
	// replaces the reflected one. Schema, when set, is used as it is.
	Like   any
	Schema map[string]any
	// Description is shown beside the member.
	Description string
}

// Documented is implemented by a body type whose members need a FieldDoc,
// keyed by JSON member name. The method lives beside the type, with the
// validation lists it repeats, so that the two change together.
type Documented interface {
	OpenAPIFields() map[string]FieldDoc
}

// Schemas that any JSON value fits are refused by TestServerDocument;
// these say "one of several types" as anyOf, which client generators turn
// into union types (a list of types in "type" defeats oapi-codegen).
var (
	// AnyJSON is any JSON value (in a list, anything but another list).
	AnyJSON = AnyOf("string", "number", "boolean", "object", "array", "null")
	// JSONObject is any JSON object.
	JSONObject = map[string]any{"type": "object", "additionalProperties": true}
)

// AnyOf is a schema accepting a value of any of the JSON types named.
func AnyOf(types ...string) map[string]any {
	alts := make([]any, 0, len(types))
	for _, typ := range types {
		alt := map[string]any{"type": typ}
		switch typ {
		case "object":
			alt["additionalProperties"] = true
		case "array":
			alt["items"] = AnyOf("string", "number", "boolean", "object")
		}
		alts = append(alts, alt)
	}
	return map[string]any{"anyOf": alts}
}

const decimalPattern = `^-?[0-9]+(\.[0-9]+)?$`

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
	problemSchema := g.schema(reflect.TypeFor[problem]())

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
		tags = append(tags, map[string]any{"name": name, "description": tagDescription(name)})
	}
	infoObj := map[string]any{
		"title": info.Title, "version": info.Version,
		"contact": map[string]any{"name": "customerhub maintainers"},
	}
	if info.Description != "" {
		infoObj["description"] = info.Description
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    infoObj,
		// Relative to where the document was fetched from: the same
		// server answers the API.
		"servers": []any{map[string]any{"url": "/", "description": "The server this document was read from"}},
		"paths":   paths,
		"tags":    tags,
		"components": map[string]any{
			"schemas": g.components(),
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer",
					"description": "An API token (POST /v1/auth/tokens) or a session token (POST /v1/auth/login)."},
			},
		},
	}
}

func tagDescription(tag string) string {
	return "Operations on " + strings.ReplaceAll(tag, "-", " ") + "."
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
	if takesIdempotencyKey(rt) {
		params = append(params, map[string]any{
			"name": HeaderIdempotencyKey, "in": "header", "required": false,
			"schema":      map[string]any{"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
			"description": "A key of the client's choosing: a retry with the same key and request answers the first response again.",
		})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if len(patterns) > 0 {
		op["x-query-patterns"] = patterns
	}
	op["description"] = description(rt, patternDocs)

	if rt.Request != nil {
		op["requestBody"] = map[string]any{
			"required": true, // DecodeJSON refuses an empty body, as the form routes do
			"content":  map[string]any{requestMedia(rt): map[string]any{"schema": g.schema(bodyType(rt.Request))}},
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
			// 3.1 describes with a content media type.
			schema := map[string]any{"type": "string"}
			if !strings.HasPrefix(mt, "text/") {
				schema["contentMediaType"] = mt
			}
			content[mt] = map[string]any{"schema": schema}
		}
		success["content"] = content
	}
	responses := map[string]any{strconv.Itoa(status): success}
	for st, body := range rt.Also {
		responses[strconv.Itoa(st)] = map[string]any{"description": statusText(st),
			"content": map[string]any{"application/json": map[string]any{"schema": g.schema(bodyType(body))}}}
	}
	for _, e := range errorResponses(rt, len(pathParams) > 0) {
		responses[strconv.Itoa(e.status)] = map[string]any{
			"description": e.why,
			"content":     map[string]any{ContentTypeProblem: map[string]any{"schema": problemSchema}},
		}
	}
	responses["default"] = map[string]any{
		"description": "The request failed; the body says why.",
		"content":     map[string]any{ContentTypeProblem: map[string]any{"schema": problemSchema}},
	}
	op["responses"] = responses
	return op
}

// takesIdempotencyKey reports whether the route takes an Idempotency-Key: every
// authenticated POST does (Router.Handle).
func takesIdempotencyKey(rt Route) bool {
	return rt.Permission != Public && strings.EqualFold(rt.Method, "POST")
}

// description is the operation's prose: the route's own Description, then
// what the route table says of it (permission, preconditions, paging).
func description(rt Route, patternDocs []string) string {
	var parts []string
	if rt.Description != "" {
		parts = append(parts, rt.Description)
	} else if rt.Summary != "" {
		parts = append(parts, strings.TrimSuffix(rt.Summary, ".")+".")
	}
	switch rt.Permission {
	case Public:
		parts = append(parts, "Public: needs no credentials.")
	case Authenticated:
		parts = append(parts, "Needs a valid token, and no particular permission.")
	default:
		parts = append(parts, "Needs the `"+rt.Permission+"` permission; objects outside the caller's visibility answer 404.")
	}
	if rt.IfMatch {
		parts = append(parts, "Needs `If-Match` with the object's ETag (428 without it, 412 when the object changed since).")
	}
	if takesIdempotencyKey(rt) {
		parts = append(parts, "Accepts an `Idempotency-Key`: a retry with the same key answers the first response again.")
	}
	if paged(rt) {
		parts = append(parts, "Paged: pass the answer's `next_cursor` as `cursor` for the next page; it is null on the last one.")
	}
	if rt.StreamBody {
		parts = append(parts, "The body is read as a stream, under the upload's own size limit.")
	}
	if len(patternDocs) > 0 {
		parts = append(parts, "Also accepts query parameters matching these patterns:\n\n"+strings.Join(patternDocs, "\n"))
	}
	return strings.Join(parts, "\n\n")
}

func paged(rt Route) bool {
	return slices.ContainsFunc(rt.Query, func(p Param) bool { return p.Name == "cursor" })
}

type errorResponse struct {
	status int
	why    string
}

// errorResponses lists the problem+json answers a route can give, as the
// route table and the middleware decide them (Router.Handle, LimitBody,
// DecodeJSON, the rate limits); a handler's own 409s and 422s follow from
// its body. 500 and 503 (a failing database) are left to "default".
func errorResponses(rt Route, hasPathParams bool) []errorResponse {
	var out []errorResponse
	write := rt.Method != "GET" && rt.Method != "HEAD"
	if len(rt.Query) > 0 || rt.Request != nil || hasPathParams || rt.IfMatch || takesIdempotencyKey(rt) {
		out = append(out, errorResponse{400, "A malformed request: an unknown or repeated query parameter, a bad value; `errors` names each field."})
	}
	if rt.Permission != Public {
		out = append(out,
			errorResponse{401, "No valid token."},
			errorResponse{403, "The token's user lacks the permission."})
	}
	if hasPathParams {
		out = append(out, errorResponse{404, "No such object, or one outside the caller's visibility."})
	}
	if write && rt.Permission != Public && (rt.Request != nil || rt.IfMatch || takesIdempotencyKey(rt) || hasPathParams) {
		out = append(out, errorResponse{409, "The request conflicts with the current state (a duplicate, a request with the same Idempotency-Key still running)."})
	}
	if rt.IfMatch {
		out = append(out, errorResponse{412, "The object changed since it was read (If-Match names another version)."})
	}
	if write && (rt.Request != nil || rt.StreamBody) {
		out = append(out, errorResponse{413, "The body is larger than the limit."})
	}
	switch {
	case rt.Request == nil:
	case rt.RequestMedia == MIMEMultipartForm:
		out = append(out, errorResponse{415, "The uploaded file is in a format the route does not read."})
	default:
		out = append(out, errorResponse{415, "The body is not " + requestMedia(rt) + "."})
	}
	if rt.Request != nil || takesIdempotencyKey(rt) {
		out = append(out, errorResponse{422, "The request is well formed but cannot apply (a reference to nothing, an Idempotency-Key reused for another request)."})
	}
	if rt.IfMatch {
		out = append(out, errorResponse{428, "If-Match is missing."})
	}
	out = append(out, errorResponse{429, "Too many requests; Retry-After says when to try again."})
	return out
}

// MIMEMultipartForm is the media type of an upload's body.
const MIMEMultipartForm = "multipart/form-data"

// requestMedia is the media type of the route's request body.
func requestMedia(rt Route) string {
	if rt.RequestMedia != "" {
		return rt.RequestMedia
	}
	return "application/json"
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

// schemaGen collects the components of one document. Each body type is
// reflected on its own and the definitions are merged by name: the Namer
// gives a type the same name in every reflection, so they agree.
type schemaGen struct {
	r     *jsonschema.Reflector
	defs  map[string]map[string]any
	names map[reflect.Type]string
	types map[string]reflect.Type
	done  map[string]bool
	order []string // component names in the order they were met
}

func newSchemaGen() *schemaGen {
	g := &schemaGen{
		defs:  map[string]map[string]any{},
		names: map[reflect.Type]string{},
		types: map[string]reflect.Type{},
		done:  map[string]bool{},
	}
	g.r = &jsonschema.Reflector{
		Anonymous: true,
		// Responses may grow members; additionalProperties is left
		// unsaid rather than false, as the document always has.
		AllowAdditionalProperties: true,
		Namer:                     g.name,
		Mapper:                    mapType,
	}
	return g
}

// schema returns the schema of t: a $ref for a named struct, else inline.
func (g *schemaGen) schema(t reflect.Type) map[string]any {
	s := g.r.ReflectFromType(t)
	raw, err := json.Marshal(s)
	if err != nil {
		panic("httpapi: schema of " + t.String() + ": " + err.Error())
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		// A schema that is just true: anything goes.
		out = map[string]any{}
	}
	defs, _ := out["$defs"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(defs)) {
		if _, seen := g.defs[name]; !seen {
			d, _ := defs[name].(map[string]any)
			g.defs[name] = rewriteRefs(d).(map[string]any)
			g.order = append(g.order, name)
		}
	}
	delete(out, "$defs")
	delete(out, "$schema")
	delete(out, "$id")
	return rewriteRefs(out).(map[string]any)
}

// rewriteRefs points the reflector's #/$defs/ references at the document's
// components, in place.
func rewriteRefs(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); k == "$ref" && ok {
				v[k] = "#/components/schemas/" + strings.TrimPrefix(s, "#/$defs/")
				continue
			}
			v[k] = rewriteRefs(x)
		}
	case []any:
		for i, x := range v {
			v[i] = rewriteRefs(x)
		}
	case bool:
		if v {
			return map[string]any{}
		}
	case nil:
		return map[string]any{}
	}
	return v
}

// components finishes every component (which may bring in more through
// FieldDoc.Like) and returns them.
func (g *schemaGen) components() map[string]any {
	for i := 0; i < len(g.order); i++ {
		g.finish(g.order[i])
	}
	out := make(map[string]any, len(g.defs))
	for name, d := range g.defs {
		out[name] = d
	}
	return out
}

// finish adds to a struct's component what reflection leaves out: null on
// pointer and Optional members, Optional members and those promoted
// through an embedded pointer as not required, `,string` members as
// strings, and the type's own FieldDocs.
func (g *schemaGen) finish(name string) {
	if g.done[name] {
		return
	}
	g.done[name] = true
	t, def := g.types[name], g.defs[name]
	if t == nil || t.Kind() != reflect.Struct {
		return
	}
	props, _ := def["properties"].(map[string]any)
	var docs map[string]FieldDoc
	if d, ok := reflect.New(t).Elem().Interface().(Documented); ok {
		docs = d.OpenAPIFields()
	}
	required, _ := def["required"].([]any)
	optional := map[string]bool{}
	for _, f := range jsonMembers(t) {
		s, ok := props[f.name].(map[string]any)
		if !ok {
			continue
		}
		if f.quoted {
			s = map[string]any{"type": "string"}
		}
		if doc, ok := docs[f.name]; ok {
			s = g.applyDoc(s, doc)
		}
		if f.nullable {
			s = nullable(s)
		}
		props[f.name] = s
		if f.optional {
			optional[f.name] = true
		}
	}
	for member := range docs {
		if _, ok := props[member]; !ok {
			panic(fmt.Sprintf("httpapi: %s.OpenAPIFields documents %q, which is no member", t, member))
		}
	}
	required = slices.DeleteFunc(required, func(v any) bool { s, _ := v.(string); return optional[s] })
	if len(required) > 0 {
		def["required"] = required
	} else {
		delete(def, "required")
	}
}

func (g *schemaGen) applyDoc(s map[string]any, doc FieldDoc) map[string]any {
	switch {
	case doc.Schema != nil:
		s = cloneSchema(doc.Schema)
	case doc.Like != nil:
		s = g.schema(bodyType(doc.Like))
	}
	target := s
	if items, ok := s["items"].(map[string]any); ok && s["type"] == "array" {
		target = items // an enum or format of a list is its items'
	}
	if len(doc.Enum) > 0 {
		enum := make([]any, len(doc.Enum))
		for i, v := range doc.Enum {
			enum[i] = v
		}
		target["enum"] = enum
	}
	if doc.Format != "" {
		target["format"] = doc.Format
	}
	if doc.Pattern != "" {
		target["pattern"] = doc.Pattern
	}
	if doc.Description != "" {
		s["description"] = doc.Description
	}
	return s
}

func cloneSchema(s map[string]any) map[string]any {
	raw, err := json.Marshal(s)
	if err != nil {
		panic("httpapi: FieldDoc.Schema does not marshal: " + err.Error())
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		panic("httpapi: FieldDoc.Schema: " + err.Error())
	}
	return out
}

// name is the reflector's Namer: a stable PascalCase component name for
// every named struct, the same whichever other types the document holds.
// The type name is prefixed with its package's (customer.bulkRequest is
// CustomerBulkRequest) unless it already starts with it
// (customer.customerResponse is CustomerResponse) or the package is one
// whose types every domain shares (httpapi, validation). Two types that
// still meet on one name are numbered in the order they were met, which
// the route table fixes. Other types are inlined, so they have no name.
func (g *schemaGen) name(t reflect.Type) string {
	if t.Kind() != reflect.Struct || t.Name() == "" {
		return ""
	}
	if name, ok := g.names[t]; ok {
		return name
	}
	base := componentName(t)
	name := base
	for n := 2; g.types[name] != nil; n++ {
		name = base + strconv.Itoa(n)
	}
	g.names[t], g.types[name] = name, t
	return name
}

// pinned names the types of the error body, whatever their package.
var pinned = map[reflect.Type]string{
	reflect.TypeFor[problem]():               "Problem",
	reflect.TypeFor[validation.FieldError](): "FieldError",
}

var (
	pkgPathRE   = regexp.MustCompile(`[\w.\-]+/`)
	qualifierRE = regexp.MustCompile(`\b[a-z][a-z0-9_]*\.`)
)

func componentName(t reflect.Type) string {
	if name, ok := pinned[t]; ok {
		return name
	}
	// Type arguments name their types without the package
	// (page[github.com/x/customer.item] is PageItem).
	plain := qualifierRE.ReplaceAllString(pkgPathRE.ReplaceAllString(t.Name(), ""), "")
	name := pascal(plain)
	pkg := pascal(path.Base(t.PkgPath()))
	switch path.Base(t.PkgPath()) {
	case "httpapi", "validation":
		return name
	}
	if strings.HasPrefix(name, pkg) {
		return name
	}
	return pkg + name
}

// pascal joins the identifier runs of s, each with a capital first letter:
// settingsResponse is SettingsResponse, pair[string,int] PairStringInt.
func pascal(s string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

// mapType is the reflector's Mapper: the types that encode as strings.
func mapType(t reflect.Type) *jsonschema.Schema {
	switch {
	case t == reflect.TypeFor[time.Time]():
		return &jsonschema.Schema{Type: "string", Format: "date-time"}
	case t == reflect.TypeFor[uuid.UUID]():
		return &jsonschema.Schema{Type: "string", Format: "uuid"}
	case isDecimal(t):
		// Exact decimal text, as money and rates are sent.
		return &jsonschema.Schema{Type: "string", Pattern: decimalPattern}
	case implements(t, reflect.TypeFor[encoding.TextMarshaler]()):
		return &jsonschema.Schema{Type: "string"}
	}
	// Number formats, which client generators map to their own sizes.
	switch t.Kind() {
	case reflect.Int64:
		return &jsonschema.Schema{Type: "integer", Format: "int64"}
	case reflect.Int32:
		return &jsonschema.Schema{Type: "integer", Format: "int32"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &jsonschema.Schema{Type: "integer", Minimum: "0"}
	case reflect.Float32:
		return &jsonschema.Schema{Type: "number", Format: "float"}
	case reflect.Float64:
		return &jsonschema.Schema{Type: "number", Format: "double"}
	}
	return nil
}

// isDecimal reports whether t is decimal.Decimal or a struct that embeds
// it (money.Value) and encodes as its text.
func isDecimal(t reflect.Type) bool {
	dec := reflect.TypeFor[decimal.Decimal]()
	if t == dec {
		return true
	}
	if t.Kind() != reflect.Struct || !implements(t, reflect.TypeFor[encoding.TextMarshaler]()) {
		return false
	}
	for i := range t.NumField() {
		if f := t.Field(i); f.Anonymous && f.Type == dec {
			return true
		}
	}
	return false
}

// implements reports whether t or *t has the method set of iface:
// encoding/json also uses pointer methods of addressable values.
func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface)
}

// nullable adds null to a schema's accepted values: as a type list when
// it has a type, else as a oneOf beside a $ref.
func nullable(s map[string]any) map[string]any {
	out := make(map[string]any, len(s))
	maps.Copy(out, s)
	switch typ := s["type"].(type) {
	case string:
		out["type"] = []any{typ, "null"}
		if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, nil) {
			out["enum"] = append(slices.Clone(enum), nil)
		}
		return out
	case []any:
		if !slices.Contains(typ, "null") {
			out["type"] = append(slices.Clone(typ), "null")
		}
		return out
	}
	if len(s) == 0 {
		return out // any already admits null
	}
	if _, ok := s["$ref"]; ok {
		return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
	}
	if alts, ok := s["anyOf"].([]any); ok {
		if !slices.ContainsFunc(alts, func(a any) bool { m, _ := a.(map[string]any); return m["type"] == "null" }) {
			out["anyOf"] = append(slices.Clone(alts), map[string]any{"type": "null"})
		}
		return out
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// isOptional tells a patch.Field: a PATCH member that may be absent, and
// null when nullable.
func isOptional(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.PkgPath() == reflect.TypeFor[patch.Field[int]]().PkgPath() &&
		strings.HasPrefix(t.Name(), "Field[")
}

// jsonMember is a struct member as encoding/json writes it, with what the
// reflector does not see.
type jsonMember struct {
	name     string
	quoted   bool // `json:",string"`
	nullable bool // a pointer or an Optional
	// optional members may be missing from a body: Optional, and members
	// promoted through an embedded pointer (absent when it is nil). The
	// reflector already leaves omitempty and omitzero ones out.
	optional bool
}

// jsonMembers lists t's JSON members, embedded structs flattened.
func jsonMembers(t reflect.Type) []jsonMember {
	var out []jsonMember
	for _, sf := range reflect.VisibleFields(t) {
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		tag := sf.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if tag == "-" || sf.Anonymous && name == "" {
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		viaPointer := false
		for i := 1; i < len(sf.Index); i++ {
			if t.FieldByIndex(sf.Index[:i]).Type.Kind() == reflect.Pointer {
				viaPointer = true
			}
		}
		optionList := strings.Split(opts, ",")
		out = append(out, jsonMember{
			name:     name,
			quoted:   slices.Contains(optionList, "string"),
			nullable: sf.Type.Kind() == reflect.Pointer || isOptional(sf.Type),
			optional: viaPointer || isOptional(sf.Type),
		})
	}
	return out
}
