// Package pricing manages payment terms and price lists (and, later, item
// prices and price resolution).
package pricing
