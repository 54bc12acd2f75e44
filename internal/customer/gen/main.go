// Command gen writes internal/customer/fields_gen.go from the field
// specification (package fieldspec): the Go types that carry a customer's
// fields (Record, Patch, the API's request and response) and the code that
// moves values between them, the database and the spreadsheet columns.
// Run it with go generate ./internal/customer (a test fails when the file
// is stale).
package main

import (
	"fmt"
	"os"

	"github.com/customerhub/customerhub/internal/customer/gen/fieldgen"
)

func main() {
	out := "fields_gen.go"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	src, err := fieldgen.Source()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
