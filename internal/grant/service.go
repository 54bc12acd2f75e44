package grant

import (
	"log/slog"

	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// Service implements the package's operations inside the caller's tenant
// transaction.
type Service struct {
	q      *dbsqlc.Queries
	logger *slog.Logger
}

// NewService returns a Service.
func NewService(logger *slog.Logger) *Service {
	return &Service{q: dbsqlc.New(), logger: logger}
}
