// Command filter writes internal/customer/filter_gen.go, the customer
// list filter's arguments and their copies into each query's (package
// filtergen), from the fragment and the sqlc output. Run it with go
// generate ./internal/customer after sqlc (make generate does both).
package main

import (
	"fmt"
	"os"

	"github.com/customerhub/customerhub/internal/customer/gen/filtergen"
)

func main() {
	out := "filter_gen.go"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	src, err := filtergen.Source("../../queries", "../dbsqlc")
	if err != nil {
		fmt.Fprintln(os.Stderr, "filter:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
