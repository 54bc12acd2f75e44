#!/usr/bin/env bash
# Regenerates the committed fixtures of internal/xlsx. Tests never run this:
# they read the files it made. Needs LibreOffice
# (apt-get install -y --no-install-recommends libreoffice-calc) and Go.
#
#   bash internal/xlsx/testdata/make-fixtures.sh
#
# LibreOffice (a real spreadsheet program) converts the flat ODS sources in
# src/ into lo-*.xlsx, lo-*.ods, lo-*.xls and lo-*.csv; gen/ writes the
# excelize-made workbooks (shared and inline strings, 1904 dates, a hidden
# first sheet, a formula without a cached value, an encrypted workbook); the
# CSV variants LibreOffice cannot make (Latin-1) are written here as bytes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fods() { # name active-sheet
	sed "s/ACTIVE_TABLE/$2/" src/head.fods.part | cat - "src/$1.fods.body" >"$work/lo-$1.fods"
}
fods customers Customers
fods dates1904 Dates

soffice --headless --convert-to xlsx --outdir "$work" "$work/lo-customers.fods" "$work/lo-dates1904.fods" >/dev/null
soffice --headless --convert-to ods --outdir "$work" "$work/lo-customers.fods" >/dev/null
soffice --headless --convert-to xls --outdir "$work" "$work/lo-customers.fods" >/dev/null
# CSV exports, filter options: separator, quote, encoding (76 UTF-8,
# 65535 UTF-16 "Unicode"), first line.
mkdir -p "$work/comma" "$work/semicolon" "$work/utf16"
soffice --headless --convert-to 'csv:Text - txt - csv (StarCalc):44,34,76,1' --outdir "$work/comma" "$work/lo-customers.fods" >/dev/null
soffice --headless --convert-to 'csv:Text - txt - csv (StarCalc):59,34,76,1' --outdir "$work/semicolon" "$work/lo-customers.fods" >/dev/null
soffice --headless --convert-to 'csv:Text - txt - csv (StarCalc):9,34,65535,1' --outdir "$work/utf16" "$work/lo-customers.fods" >/dev/null
cp "$work/lo-customers.xlsx" "$work/lo-dates1904.xlsx" "$work/lo-customers.ods" "$work/lo-customers.xls" .
cp "$work/comma/lo-customers.csv" lo-customers-comma.csv
cp "$work/semicolon/lo-customers.csv" lo-customers-semicolon.csv
cp "$work/utf16/lo-customers.csv" lo-customers-utf16-tab.csv

# Hand-made CSV variants: UTF-8 BOM with CRLF and a quoted field with a
# newline; a tab-separated one; Latin-1 text (invalid UTF-8) in row 3.
printf '\xef\xbb\xbfcode,name,notes\r\n001,"Toko Sinar, Jaya","first line\r\nsecond line"\r\n002,Kafe 서울,plain\r\n' >bom-crlf.csv
printf 'code\tname\tcity\n0042\tCV Abadi\tBandung\n0043\t"Quoted\tTab"\tSurabaya\n' >tab.csv
printf 'code;name\n1;Jos\xc3\xa9\n2;Jos\xe9\n3;Ana\n' >latin1-row3.csv

(cd "$here/../../.." && go run ./internal/xlsx/testdata/gen "$here")
