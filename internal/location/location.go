// Package location manages customer locations: addresses with kinds,
// default billing and shipping, and per-location sales reps.
package location
