// Command gen writes the shared SQL fragments of queries/fragments into
// the query files that use them (see package sqlfrag). make generate runs
// it before sqlc; with -check (make check-generated) it writes nothing
// and fails when a copy is stale. Run it from the repository's root.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/customerhub/customerhub/internal/sqlfrag"
)

func main() {
	check := flag.Bool("check", false, "fail when a query file is stale instead of writing it")
	dir := flag.String("queries", "queries", "the sqlc query directory")
	flag.Parse()
	res, err := sqlfrag.ExpandDir(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, p := range res.Stale {
		if *check {
			fmt.Fprintf(os.Stderr, "%s: a fragment's copy is stale (run make generate)\n", p)
			continue
		}
		if err := os.WriteFile(p, []byte(res.Files[p]), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if *check && len(res.Stale) > 0 {
		os.Exit(1)
	}
}
