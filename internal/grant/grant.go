// Package grant manages explicit grants of a customer to a user, one of the
// ways an 'assigned' user comes to see a customer.
package grant
