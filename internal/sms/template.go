package sms

import (
	"errors"
	"fmt"
	"strings"

	"github.com/customerhub/customerhub/internal/validation"
)

// Placeholders are the names a template may use, in the order the API
// documents them.
var Placeholders = []string{"name", "balance", "currency", "overdue", "oldest_due_date", "company", "portal_url"}

// Template limits.
const (
	MaxTemplateName = 100
	// MaxTemplateBody is Twilio's limit on a message body (1,600
	// characters); the rendered text is measured again.
	MaxTemplateBody = 1600
)

// Vars are a customer's values for the placeholders, already formatted.
type Vars struct {
	Name          string // the customer's name
	Balance       string // the balance in the customer's currency's minor units
	Currency      string // ISO 4217 code
	Overdue       string // the overdue amount, formatted as Balance
	OldestDueDate string // YYYY-MM-DD of the oldest unpaid order's due date; empty when none
	Company       string // the tenant's company name
	PortalURL     string // the tenant's portal URL from the SMS settings
}

func (v Vars) value(name string) string {
	switch name {
	case "name":
		return v.Name
	case "balance":
		return v.Balance
	case "currency":
		return v.Currency
	case "overdue":
		return v.Overdue
	case "oldest_due_date":
		return v.OldestDueDate
	case "company":
		return v.Company
	case "portal_url":
		return v.PortalURL
	}
	return ""
}

// segment is a piece of a parsed template: literal text, or a placeholder.
type segment struct {
	text        string
	placeholder string
}

// Template is a parsed message template. In a body, {name} is a
// placeholder, {{ and }} are a literal brace, and any other brace is an
// error.
type Template struct {
	parts []segment
	uses  map[string]bool
}

// ParseTemplate parses and checks a body, reporting every problem under
// field: an unknown placeholder (named), an unclosed or stray brace.
func ParseTemplate(field, body string) (*Template, error) {
	t := &Template{uses: map[string]bool{}}
	var errs validation.Errors
	var lit strings.Builder
	known := map[string]bool{}
	for _, p := range Placeholders {
		known[p] = true
	}
	for i := 0; i < len(body); {
		switch c := body[i]; {
		case c == '{' && strings.HasPrefix(body[i:], "{{"):
			lit.WriteByte('{')
			i += 2
		case c == '}' && strings.HasPrefix(body[i:], "}}"):
			lit.WriteByte('}')
			i += 2
		case c == '{':
			end := strings.IndexAny(body[i+1:], "{}")
			if end < 0 || body[i+1+end] != '}' {
				errs.Add(field, "unclosed_placeholder", fmt.Sprintf("a { at byte %d is not closed by }; write {{ for a literal brace", i))
				i++
				continue
			}
			name := body[i+1 : i+1+end]
			if !known[name] {
				errs.Add(field, "unknown_placeholder", fmt.Sprintf("unknown placeholder {%s}; known: {%s}", name, strings.Join(Placeholders, "}, {")))
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, segment{text: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, segment{placeholder: name})
			t.uses[name] = true
			i += end + 2
		case c == '}':
			errs.Add(field, "stray_brace", fmt.Sprintf("a } at byte %d closes nothing; write }} for a literal brace", i))
			i++
		default:
			lit.WriteByte(c)
			i++
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, segment{text: lit.String()})
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// Uses reports whether the template uses a placeholder.
func (t *Template) Uses(name string) bool { return t.uses[name] }

// Render fills the placeholders in.
func (t *Template) Render(v Vars) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.placeholder != "" {
			b.WriteString(v.value(p.placeholder))
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// TemplateInput is a template as created.
type TemplateInput struct {
	Name string
	Body string
}

// Validate normalizes and checks a template, reporting every field.
func (in *TemplateInput) Validate() error {
	var errs validation.Errors
	in.Name = strings.TrimSpace(in.Name)
	checkName(&errs, in.Name)
	checkBody(&errs, in.Body)
	return errs.Err()
}

func checkName(errs *validation.Errors, name string) {
	switch n := len([]rune(name)); {
	case n == 0:
		errs.Add("name", "required", "must not be empty")
	case n > MaxTemplateName:
		errs.Add("name", "too_long", fmt.Sprintf("must be at most %d characters", MaxTemplateName))
	}
}

func checkBody(errs *validation.Errors, body string) {
	switch n := len([]rune(body)); {
	case strings.TrimSpace(body) == "":
		errs.Add("body", "required", "must not be empty")
		return
	case n > MaxTemplateBody:
		errs.Add("body", "too_long", fmt.Sprintf("must be at most %d characters", MaxTemplateBody))
		return
	}
	if _, err := ParseTemplate("body", body); err != nil {
		var ve validation.Errors
		if errors.As(err, &ve) {
			*errs = append(*errs, ve...)
		}
	}
}

// TemplatePatch changes a template; nil fields stay.
type TemplatePatch struct {
	Name *string
	Body *string
}

// Validate normalizes and checks the fields given.
func (p *TemplatePatch) Validate() error {
	var errs validation.Errors
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		p.Name = &n
		checkName(&errs, n)
	}
	if p.Body != nil {
		checkBody(&errs, *p.Body)
	}
	return errs.Err()
}
