package xlsx

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
)

// benchRows is the row count of the benchmark workbook; XLSX_BENCH_ROWS
// raises it (make bench uses 100,000).
func benchRows(b *testing.B) int {
	if s := os.Getenv("XLSX_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 20_000
}

// writeBenchFile writes an n-row customer-like workbook (or CSV) with this
// package's Writer: text codes with leading zeros, names, e-mails, decimals,
// dates, integers.
func writeBenchFile(b *testing.B, format Format, n int) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "bench."+format.String())
	fh, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	cols := []Column{{Header: "code"}, {Header: "name"}, {Header: "email"}, {Header: "phone"}, {Header: "credit_limit"},
		{Header: "discount_rate"}, {Header: "basis_date"}, {Header: "credit_days"}, {Header: "billing_city"}, {Header: "notes"}}
	w, err := NewWriter(fh, format, WriterOptions{Columns: cols})
	if err != nil {
		b.Fatal(err)
	}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		err := w.WriteRow([]any{
			fmt.Sprintf("%08d", i), fmt.Sprintf("Customer %d Sdn Bhd", i), fmt.Sprintf("c%d@example.com", i),
			fmt.Sprintf("+6281%08d", i), decimal.New(int64(i)*125, -2), decimal.New(int64(i%100), -1),
			base.AddDate(0, 0, i%2000), i % 90, "Jakarta", "",
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkReadXLSX compares excelize's bare row iterator (formatted strings
// only) with this package's Reader over the same workbook, and the Reader
// with every cell interpreted (Text) as the importer does.
func BenchmarkReadXLSX(b *testing.B) {
	n := benchRows(b)
	p := writeBenchFile(b, FormatXLSX, n)
	b.Run("excelize-rows", func(b *testing.B) {
		for b.Loop() {
			f, err := excelize.OpenFile(p)
			if err != nil {
				b.Fatal(err)
			}
			rows, err := f.Rows("Sheet1")
			if err != nil {
				b.Fatal(err)
			}
			count := 0
			for rows.Next() {
				if _, err := rows.Columns(); err != nil {
					b.Fatal(err)
				}
				count++
			}
			if err := rows.Close(); err != nil {
				b.Fatal(err)
			}
			f.Close()
			if count != n+1 {
				b.Fatalf("%d rows", count)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	for _, interpret := range []bool{false, true} {
		name := "reader"
		if interpret {
			name = "reader-text"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				readBench(b, p, FormatXLSX, n, interpret)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkReadCSV reads the same rows as CSV.
func BenchmarkReadCSV(b *testing.B) {
	n := benchRows(b)
	p := writeBenchFile(b, FormatCSV, n)
	b.Run("reader-text", func(b *testing.B) {
		for b.Loop() {
			readBench(b, p, FormatCSV, n, true)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

func readBench(b *testing.B, p string, format Format, n int, interpret bool) {
	r, err := Open(p, format, Options{})
	if err != nil {
		b.Fatal(err)
	}
	count := 0
	for r.Next() {
		_, cells := r.Row()
		if interpret {
			for _, c := range cells {
				_ = c.Text()
			}
		}
		count++
	}
	if err := r.Err(); err != nil {
		b.Fatal(err)
	}
	r.Close()
	if count != n+1 {
		b.Fatalf("%d rows", count)
	}
}

// BenchmarkWriteXLSX streams n rows into an xlsx.
func BenchmarkWriteXLSX(b *testing.B) {
	n := benchRows(b)
	for b.Loop() {
		writeBenchFile(b, FormatXLSX, n)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
