package jobs

import "github.com/customerhub/customerhub/internal/httpapi"

// jsonObjectOrNull is a job's params or result: an object whose members
// depend on the job's kind, null when there is none (yet).
var jsonObjectOrNull = map[string]any{"type": []any{"object", "null"}, "additionalProperties": true}

// OpenAPIFields implements httpapi.Documented.
func (View) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{
		"state":  {Enum: []string{StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled}},
		"params": {Schema: jsonObjectOrNull, Description: "What the job was asked to do; the members depend on its kind."},
		"result": {Schema: jsonObjectOrNull, Description: "What the job produced; the members depend on its kind."},
	}
}
