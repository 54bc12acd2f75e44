// Package precondition carries an update's If-Match condition (RFC 9110,
// section 13.1.1) from the HTTP edge to the service that evaluates it.
//
// The service evaluates it only once it has found, and locked, an object
// the caller may see: an unknown or out-of-scope object is "not found"
// whatever the condition says, and only an object that exists can fail
// it. So the handler parses the header (a malformed one is refused at
// once) but never compares versions itself.
package precondition

import "slices"

// IfMatch is the condition of an If-Match header. The zero value matches
// nothing, so a condition forgotten on the way fails closed.
type IfMatch struct {
	any      bool
	versions []int64
}

// Any matches every version of an existing object (If-Match: *).
func Any() IfMatch { return IfMatch{any: true} }

// Versions matches the listed versions: the strong entity tags of the
// header that name a version. Weak tags and tags we never issue match
// nothing (strong comparison), so Versions() never matches.
func Versions(v ...int64) IfMatch { return IfMatch{versions: v} }

// Matches reports whether an object at version current satisfies the
// condition.
func (m IfMatch) Matches(current int64) bool {
	return m.any || slices.Contains(m.versions, current)
}
