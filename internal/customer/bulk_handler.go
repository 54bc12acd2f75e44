package customer

import "github.com/customerhub/customerhub/internal/httpapi"

// bulkRoutes registers POST /customers/bulk-update.
func (h *Handler) bulkRoutes(r *httpapi.Router) {}
