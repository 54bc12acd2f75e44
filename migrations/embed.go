// Package migrations embeds the SQL migrations so the binary can apply them
// (customerhub migrate). Files are golang-migrate pairs,
// NNNNNN_verb_object.up.sql / .down.sql; sqlc reads the same folder as its
// schema and ignores the .down.sql files.
package migrations

import "embed"

// FS holds every migration file and their checksums (checksums.txt).
//
//go:embed *.sql checksums.txt
var FS embed.FS
