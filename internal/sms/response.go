package sms

import (
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// The API's views of the SMS settings and of a template: what the handlers
// answer with and what the service records in the audit trail (package
// audit). The settings view, and so the trail, shows whether a secret is
// set and its last four characters, never the secret.

type settingsResponse struct {
	AccountSID          *string `json:"account_sid"`
	AuthTokenSet        bool    `json:"auth_token_set"`
	AuthTokenLast4      *string `json:"auth_token_last4"`
	APIKeySID           *string `json:"api_key_sid"`
	APIKeySecretSet     bool    `json:"api_key_secret_set"`
	APIKeySecretLast4   *string `json:"api_key_secret_last4"`
	FromNumber          *string `json:"from_number"`
	MessagingServiceSID *string `json:"messaging_service_sid"`
	TimeZone            string  `json:"time_zone"`
	// QuietStart and QuietEnd bound the sending window, local time.
	QuietStart     string  `json:"quiet_start"`
	QuietEnd       string  `json:"quiet_end"`
	RatePerSecond  int32   `json:"rate_per_second"`
	MinDaysBetween int32   `json:"min_days_between"`
	PortalURL      *string `json:"portal_url"`
	// Configured is true when an account, a credential and a sender are
	// set: notices can be sent.
	Configured bool       `json:"configured"`
	Version    int64      `json:"version"`
	UpdatedAt  *time.Time `json:"updated_at"`
}

func toSettingsResponse(s Settings) settingsResponse {
	return settingsResponse{AccountSID: s.AccountSID, AuthTokenSet: s.AuthTokenSet, AuthTokenLast4: s.AuthTokenLast4,
		APIKeySID: s.APIKeySID, APIKeySecretSet: s.APIKeySecretSet, APIKeySecretLast4: s.APIKeySecretLast4,
		FromNumber: s.FromNumber, MessagingServiceSID: s.MessagingServiceSID, TimeZone: s.TimeZone, QuietStart: s.QuietStart,
		QuietEnd: s.QuietEnd, RatePerSecond: s.RatePerSecond, MinDaysBetween: s.MinDaysBetween, PortalURL: s.PortalURL,
		Configured: s.Configured(), Version: s.Version, UpdatedAt: s.UpdatedAt}
}

type templateResponse struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Body string    `json:"body"`
	// Placeholders lists the placeholders the body uses.
	Placeholders []string  `json:"placeholders"`
	Version      int64     `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func toTemplateResponse(t dbsqlc.SmsTemplate) templateResponse {
	used := []string{}
	if parsed, err := ParseTemplate("body", t.Body); err == nil {
		for _, p := range Placeholders {
			if parsed.Uses(p) {
				used = append(used, p)
			}
		}
	}
	return templateResponse{ID: t.ID, Name: t.Name, Body: t.Body, Placeholders: used, Version: t.Version,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}
