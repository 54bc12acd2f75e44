package apiclient_test

import (
	"testing"

	"github.com/customerhub/customerhub/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }
