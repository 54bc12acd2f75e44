package importer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUploadFormDescribesTheFields: the OpenAPI description of the upload
// (uploadForm) names exactly the parts create reads.
func TestUploadFormDescribesTheFields(t *testing.T) {
	var described []string
	for f := range reflect.TypeFor[uploadForm]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		described = append(described, name)
	}
	require.Equal(t, append([]string{"file"}, formFields...), described)
}
