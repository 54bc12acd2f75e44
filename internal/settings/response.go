package settings

import (
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// The API's view of the settings and of a custom field definition: what
// the handlers answer with and what the service records in the audit
// trail (package audit).

type settingsResponse struct {
	RequiredFields        []string   `json:"required_fields"`
	DefaultCountry        string     `json:"default_country"`
	DefaultCurrency       string     `json:"default_currency"`
	DefaultPaymentTermsID *uuid.UUID `json:"default_payment_terms_id"`
	DefaultCreditPolicy   string     `json:"default_credit_policy"`
	DormantAfterDays      int32      `json:"dormant_after_days"`
	// DormantIncludeOpenBalance: the dormant sweep takes customers who owe
	// money too (default false).
	DormantIncludeOpenBalance bool `json:"dormant_include_open_balance"`
	// DormantSweepHour is the hour (UTC, 0-23) of the daily dormant sweep.
	DormantSweepHour int32     `json:"dormant_sweep_hour"`
	Version          int64     `json:"version"`
	UpdatedAt        time.Time `json:"updated_at"`
}

func toSettingsResponse(s Settings) settingsResponse {
	return settingsResponse(s)
}

type fieldResponse struct {
	ID        uuid.UUID `json:"id"`
	Key       string    `json:"key"`
	Label     string    `json:"label"`
	Type      string    `json:"type"`
	Required  bool      `json:"required"`
	Options   []string  `json:"options"`
	Position  int32     `json:"position"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toFieldResponse(f dbsqlc.CustomFieldDef) fieldResponse {
	opts := f.Options
	if opts == nil {
		opts = []string{}
	}
	return fieldResponse{ID: f.ID, Key: f.Key, Label: f.Label, Type: f.Type, Required: f.Required, Options: opts,
		Position: f.Position, Version: f.Version, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
}
