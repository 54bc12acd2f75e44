package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/files"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// source is an import's file open for reading: the temporary copy of the
// stored file, the row reader positioned after row last of pass, and the
// keys seen so far (for duplicates inside the file). A worker keeps it
// between the batches of an attempt and between attempts it works in a
// row, so the file is read once; any other position (a batch rolled back,
// another worker) opens it again and skips to the committed resume point.
type source struct {
	path    string
	reader  *xlsx.Reader
	pass    byte
	last    int
	header  *matched
	seen    map[string]int
	pending *pendingRow
	used    time.Time
	// eof: the batches have taken the last row; readDone: the reader
	// has (the reading side's own flag).
	eof      bool
	readDone bool

	// The read-ahead: a goroutine reads and parses the rows after the
	// resume point into rows (a batch ahead at most) while the batch
	// before them is checked and written; readErr is what ended the
	// file, set before rows is closed.
	rows    chan *row
	stop    chan struct{}
	stopped chan struct{}
	readErr error
}

// pendingRow is a row read past a batch's end, kept for the next batch.
type pendingRow struct {
	num   int
	cells []xlsx.Cell
}

func (s *source) close() {
	if s.stop != nil {
		close(s.stop)
		<-s.stopped
		s.stop = nil
	}
	if s.reader != nil {
		_ = s.reader.Close()
		s.reader = nil
	}
	if s.path != "" {
		_ = os.Remove(s.path)
		s.path = ""
	}
}

// readAhead starts the goroutine that reads and parses the rows ahead,
// up to n of them.
func (s *source) readAhead(n int) {
	s.rows, s.stop, s.stopped = make(chan *row, n), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.stopped)
		defer close(s.rows)
		for {
			num, cells, ok := s.next()
			if !ok {
				s.readErr = s.reader.Err()
				return
			}
			select {
			case s.rows <- s.see(s.header.table.parse(num, cells)):
			case <-s.stop:
				return
			}
		}
	}()
}

// next returns the next row, its cells copied (the reader reuses them).
func (s *source) next() (int, []xlsx.Cell, bool) {
	if p := s.pending; p != nil {
		s.pending = nil
		return p.num, p.cells, true
	}
	if s.readDone || !s.reader.Next() {
		s.readDone = true
		return 0, nil, false
	}
	n, cells := s.reader.Row()
	return n, append([]xlsx.Cell(nil), cells...), true
}

// openFiles are the sources a worker process holds, by import.
type openFiles struct {
	mu sync.Mutex
	m  map[uuid.UUID]*source
}

func newOpenFiles() *openFiles { return &openFiles{m: map[uuid.UUID]*source{}} }

// idleSource is how long an unused source is kept.
const idleSource = 10 * time.Minute

// take returns the import's source when it is at (pass, last), removing it
// from the set while in use; nil otherwise (a stale one is closed). Sources
// left idle are closed on the way.
func (o *openFiles) take(id uuid.UUID, pass byte, last int) *source {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	for k, s := range o.m {
		if k != id && now.Sub(s.used) > idleSource {
			s.close()
			delete(o.m, k)
		}
	}
	s := o.m[id]
	if s == nil {
		return nil
	}
	delete(o.m, id)
	if s.pass != pass || s.last != last {
		s.close()
		return nil
	}
	return s
}

// put keeps a source for the import's next batch.
func (o *openFiles) put(id uuid.UUID, s *source) {
	s.used = time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if old := o.m[id]; old != nil && old != s {
		old.close()
	}
	o.m[id] = s
}

// copyToTemp copies a stored file into a temporary file, chunk by chunk,
// each chunk read in a transaction of its own in scope.
func copyToTemp(ctx context.Context, db database.Beginner, scope database.Scope, fileID uuid.UUID, dir string) (string, error) {
	r, err := files.OpenEach(ctx, db, scope, fileID)
	if err != nil {
		return "", fmt.Errorf("open the uploaded file: %w", err)
	}
	f, err := os.CreateTemp(dir, "customerhub-import-*")
	if err != nil {
		return "", fmt.Errorf("temporary file: %w", err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("copy the uploaded file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// fileError turns what refuses a file as a whole into the reason shown.
func fileError(err error) (string, bool) {
	var (
		fe  *xlsx.FormatError
		le  *xlsx.LimitError
		ce  *xlsx.CorruptError
		ee  *xlsx.EncodingError
		hfe *headerError
	)
	switch {
	case errors.As(err, &fe), errors.As(err, &le), errors.As(err, &ce), errors.As(err, &ee), errors.As(err, &hfe):
		return err.Error(), true
	case errors.Is(err, xlsx.ErrNoRows):
		return "the sheet has no rows: nothing to import (an empty sheet, or one that could not be read)", true
	case errors.Is(err, xlsx.ErrSheetNotFound):
		return "the sheet to import was not found (sheet names none of the workbook's visible sheets)", true
	}
	return "", false
}
