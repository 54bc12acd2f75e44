package console_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStringsInCatalog: the screens take every user-visible word from
// src/messages.ts. Text written between tags, or as a literal label,
// title, placeholder or alt text, fails here naming the file and line.
func TestStringsInCatalog(t *testing.T) {
	literal := []*regexp.Regexp{
		regexp.MustCompile(`(?:^|[^=])>\s*[A-Za-z][^<>{}]*<`),                                     // <b>Text</b> (not an arrow's "=> Type<")
		regexp.MustCompile(`\b(aria-label|title|placeholder|alt|label)="[^"]*[A-Za-z]{2,}[^"]*"`), // label="Text"
	}
	// Attribute values that are not words for people: machine values a
	// placeholder shows as an example.
	allowed := regexp.MustCompile(`placeholder='\{"`)
	root := filepath.Join("web", "src")
	var bad []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".tsx") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") || allowed.MatchString(line) {
				continue
			}
			for _, re := range literal {
				if m := re.FindString(line); m != "" {
					bad = append(bad, path+":"+strconv.Itoa(i+1)+": "+m)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Empty(t, bad, "user-visible text outside src/messages.ts")
}
