package xlsx_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/xlsx"
)

// Export rows, then import them back: detect by content, open, read typed
// cells.
func Example() {
	dir, _ := os.MkdirTemp("", "xlsx-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "customers.xlsx")

	out, _ := os.Create(path)
	w, _ := xlsx.NewWriter(out, xlsx.FormatXLSX, xlsx.WriterOptions{
		Sheet:   "Customers",
		Columns: []xlsx.Column{{Header: "code", Required: true}, {Header: "credit_limit"}, {Header: "notes"}},
	})
	_ = w.WriteRow([]any{"00123", decimal.RequireFromString("1500.25"), "=not a formula"})
	_ = w.Close()
	_ = out.Close()

	format, err := xlsx.DetectFile(path)
	if err != nil {
		fmt.Println(err) // a *xlsx.FormatError: answer 415
		return
	}
	r, err := xlsx.Open(path, format, xlsx.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for r.Next() {
		n, cells := r.Row()
		if n == 1 {
			fmt.Println(cells[0].Text(), "|", cells[1].Text(), "|", cells[2].Text())
			continue
		}
		limit, _ := cells[1].Decimal(false)
		fmt.Println(n, cells[0].Text(), limit, cells[2].Text())
	}
	if err := r.Err(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// code * | credit_limit | notes
	// 2 00123 1500.25 =not a formula
}
