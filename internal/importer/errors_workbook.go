package importer

import (
	"bufio"
	"context"
	"os"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// errorsPage is how many failed rows one read of the errors takes.
const errorsPage = 5000

// errorsWorkbook answers the rows that failed, exactly as uploaded (each
// cell as the spreadsheet showed it), with their errors in a last column:
// a file to fix and upload again. It is streamed: the upload and the
// errors are read page by page, after the handler has checked the import
// is the caller's to see.
func (h *Handler) errorsWorkbook(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var imp dbsqlc.Import
	var scope database.Scope
	err = httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		imp, err = dbsqlc.New().ImportGet(ctx, tx, dbsqlc.ImportGetParams{TenantID: tx.TenantID(), ID: id})
		scope = tx.Scope()
		return err
	}, database.ReadOnly)
	if err != nil {
		return mapError(notFound(err))
	}
	svc := h.svc
	db := h.db
	ctx := context.WithoutCancel(c.UserContext())
	c.Set(fiber.HeaderContentType, xlsx.FormatXLSX.ContentType())
	c.Attachment("import-" + imp.ID.String()[:8] + "-errors.xlsx")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		if err := svc.writeErrors(ctx, db, scope, imp, w); err != nil {
			svc.logger.Error("errors workbook", "import_id", imp.ID, "error", err)
		}
		_ = w.Flush()
	})
	return nil
}

func notFound(err error) error {
	if isNoRows(err) {
		return ErrNotFound
	}
	return err
}

// writeErrors writes the errors workbook of imp to w.
func (s *Service) writeErrors(ctx context.Context, db database.Beginner, scope database.Scope, imp dbsqlc.Import, w *bufio.Writer) error {
	path, err := copyToTemp(ctx, db, scope, imp.FileID, s.TempDir)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	format := xlsx.FormatCSV
	if imp.Format == "xlsx" {
		format = xlsx.FormatXLSX
	}
	opts := xlsx.Options{TempDir: s.TempDir}
	if imp.Sheet != nil {
		opts.Sheet = *imp.Sheet
	}
	r, err := xlsx.Open(path, format, opts)
	if err != nil {
		return err
	}
	defer r.Close()
	if !r.Next() {
		return r.Err()
	}
	_, head := r.Row()
	var cols []xlsx.Column
	for _, c := range head {
		cols = append(cols, xlsx.Column{Header: c.Text()})
	}
	cols = append(cols, xlsx.Column{Header: "errors", Width: 60})
	out, err := xlsx.NewWriter(w, xlsx.FormatXLSX, xlsx.WriterOptions{Sheet: "Errors", Columns: cols})
	if err != nil {
		return err
	}
	width := len(head)
	after := 0
	for {
		page, err := database.WithTenantTxV(ctx, db, scope, func(ctx context.Context, tx database.Tx) ([]dbsqlc.ImportErrorRowsRow, error) {
			return s.q.ImportErrorRows(ctx, tx, dbsqlc.ImportErrorRowsParams{TenantID: tx.TenantID(), ImportID: imp.ID,
				AfterRow: int32(after), RowLimit: errorsPage})
		}, database.ReadOnly)
		if err != nil {
			return err
		}
		for _, e := range page {
			for r.Next() {
				num, cells := r.Row()
				if num < int(e.Row) {
					continue
				}
				if num == int(e.Row) {
					vals := make([]any, width+1)
					for i := range width {
						if i < len(cells) {
							vals[i] = cells[i].Value()
						}
					}
					vals[width] = e.Messages
					if err := out.WriteRow(vals); err != nil {
						return err
					}
				}
				break
			}
			after = int(e.Row)
		}
		if len(page) < errorsPage {
			break
		}
	}
	return out.Close()
}
