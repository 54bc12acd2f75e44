// Package group manages customer group categories, groups with their
// defaults, and customer memberships (at most one group per category).
package group
