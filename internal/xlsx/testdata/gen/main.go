// Command gen writes the excelize-made fixtures of internal/xlsx into the
// directory given as its argument (see make-fixtures.sh).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/xuri/excelize/v2"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	for name, fn := range map[string]func(string) error{
		"excelize-shared.xlsx":    shared,
		"excelize-stream.xlsx":    stream,
		"excelize-encrypted.xlsx": encrypted,
	} {
		if err := fn(filepath.Join(dir, name)); err != nil {
			fmt.Fprintln(os.Stderr, name, err)
			os.Exit(1)
		}
	}
}

// shared: normal mode (shared strings), a hidden first sheet, the 1904 date
// system, percent, zero-padding, date and text formats, a second sheet.
func shared(path string) error {
	f := excelize.NewFile()
	defer f.Close()
	t := true
	if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &t}); err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", "Old"); err != nil {
		return err
	}
	f.SetCellValue("Old", "A1", "hidden sheet: never imported")
	idx, _ := f.NewSheet("Pelanggan")
	f.NewSheet("Notes")
	f.SetCellValue("Notes", "A1", "second sheet: ignored")
	f.SetActiveSheet(idx)
	if err := f.SetSheetVisible("Old", false); err != nil {
		return err
	}
	pad, dmy, text := "00000", "dd/mm/yyyy", "@"
	padStyle, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &pad})
	dateStyle, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &dmy})
	pctStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 10})
	textStyle, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &text})
	s := "Pelanggan"
	rows := [][]any{
		{"code", "name", "discount_rate", "basis_date", "credit_limit", "phone"},
		{"000123", "Toko Sinar Jaya", 0.125, time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), 1500000.5, "081234567890"},
		{77, "한국상사", 0.075, time.Date(1904, 1, 2, 0, 0, 0, 0, time.UTC), 0.1, 6281234567890},
	}
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := f.SetCellValue(s, cell, v); err != nil {
				return err
			}
		}
	}
	f.SetCellStyle(s, "A3", "A3", padStyle)
	f.SetCellStyle(s, "C2", "C3", pctStyle)
	f.SetCellStyle(s, "D2", "D3", dateStyle)
	f.SetCellStyle(s, "F2", "F2", textStyle)
	return f.SaveAs(path)
}

// stream: the stream writer (inline strings), formulas with and without a
// cached value, a sparse row and empty trailing cells.
func stream(path string) error {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	rows := [][]any{
		{"code", "name", "credit_limit", "total"},
		{"0001", "مؤسسة النور", 100, excelize.Cell{Formula: "C2*2", Value: 200}},
		{"0002", "Budi", 50, excelize.Cell{Formula: "C3*2"}},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			return err
		}
	}
	if err := sw.SetRow("A6", []any{"0006", "after a gap", nil, nil, ""}); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(path)
}

// encrypted: a password-protected workbook (an OLE compound file).
func encrypted(path string) error {
	f := excelize.NewFile()
	defer f.Close()
	f.SetCellValue("Sheet1", "A1", "code")
	f.SetCellValue("Sheet1", "A2", "secret")
	return f.SaveAs(path, excelize.Options{Password: "secret"})
}
