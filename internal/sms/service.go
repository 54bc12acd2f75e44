package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/twilio/twilio-go"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/validation"
)

// Audit entity names.
const (
	EntitySettings = "sms_settings"
	EntityTemplate = "sms_template"
)

// Errors of the service.
var (
	ErrVersionMismatch  = errors.New("sms: version mismatch")
	ErrTemplateNotFound = errors.New("sms template not found")
	ErrTemplateNameUsed = errors.New("sms template name already used")
	ErrCustomerNotFound = errors.New("customer not found")
)

// Service implements SMS settings and templates inside the caller's
// tenant transaction.
type Service struct {
	q      *dbsqlc.Queries
	box    *SecretBox
	logger *slog.Logger
	// Twilio configures the clients TwilioClient builds: the API URL
	// (CUSTOMERHUB_TWILIO_API_URL) and timeout.
	Twilio ClientOptions
}

// NewService returns a Service sealing credentials with box (which may
// have no current key: then writing a credential fails with
// ErrNoSecretKey).
func NewService(box *SecretBox, logger *slog.Logger) *Service {
	if box == nil {
		box = &SecretBox{keys: map[string]*boxKey{}}
	}
	return &Service{q: dbsqlc.New(), box: box, logger: logger}
}

// Box returns the service's secret box.
func (s *Service) Box() *SecretBox { return s.box }

func (s *Service) row(ctx context.Context, tx database.Tx, lock bool) (dbsqlc.SmsSetting, error) {
	get := s.q.SmsSettingsGet
	if lock {
		get = s.q.SmsSettingsGetForUpdate
	}
	r, err := get(ctx, tx, tx.TenantID())
	if errors.Is(err, pgx.ErrNoRows) {
		r = defaultRow()
		r.TenantID = tx.TenantID()
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("get sms settings: %w", err)
	}
	return r, nil
}

// Settings returns the tenant's SMS settings (the defaults, version 1,
// when it has never written them).
func (s *Service) Settings(ctx context.Context, tx database.Tx) (Settings, error) {
	r, err := s.row(ctx, tx, false)
	return toSettings(r), err
}

// UpdateSettings applies a validated patch when want matches the stored
// version (1 before the first write), records the change against the
// settings as it locked them, and returns the settings after. Secrets are
// sealed here; without a secret key a patch that sets one fails with
// ErrNoSecretKey and nothing is stored.
func (s *Service) UpdateSettings(ctx context.Context, tx database.Tx, want precondition.IfMatch, p SettingsPatch) (Settings, error) {
	before, after, err := s.updateSettings(ctx, tx, want, p)
	if err != nil {
		return Settings{}, err
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: EntitySettings, EntityID: tx.TenantID(), Action: audit.ActionUpdate,
		Before: toSettingsResponse(before), After: toSettingsResponse(after)})
	if err != nil {
		return Settings{}, err
	}
	return after, nil
}

func (s *Service) updateSettings(ctx context.Context, tx database.Tx, want precondition.IfMatch, p SettingsPatch) (before, after Settings, err error) {
	// The tenant's settings row exists for every tenant: locking it makes
	// a tenant's SMS settings writes take turns, the first (an insert)
	// included.
	if _, err := s.q.SettingsGetForUpdate(ctx, tx, tx.TenantID()); err != nil {
		return before, after, fmt.Errorf("lock tenant settings: %w", err)
	}
	cur, err := s.row(ctx, tx, true)
	if err != nil {
		return before, after, err
	}
	before = toSettings(cur)
	if !want.Matches(cur.Version) {
		return before, before, ErrVersionMismatch
	}
	next := cur
	apply := func(dst **string, c patch.Field[string]) {
		if c.Set {
			*dst = c.Value
		}
	}
	apply(&next.AccountSid, p.AccountSID)
	apply(&next.ApiKeySid, p.APIKeySID)
	apply(&next.FromNumber, p.FromNumber)
	apply(&next.MessagingServiceSid, p.MessagingServiceSID)
	apply(&next.PortalUrl, p.PortalURL)
	if p.TimeZone.Set {
		next.TimeZone = *p.TimeZone.Value
	}
	if p.QuietStart.Set {
		next.QuietStart = *p.QuietStart.Value
	}
	if p.QuietEnd.Set {
		next.QuietEnd = *p.QuietEnd.Value
	}
	if p.RatePerSecond.Set {
		next.RatePerSecond = int32(*p.RatePerSecond.Value)
	}
	if p.MinDaysBetween.Set {
		next.MinDaysBetween = int32(*p.MinDaysBetween.Value)
	}
	seal := func(field string, c patch.Field[string], sealed, l4 **string) error {
		if !c.Set {
			return nil
		}
		if c.Value == nil {
			*sealed, *l4 = nil, nil
			return nil
		}
		v, err := s.box.Seal(tx.TenantID(), field, *c.Value)
		if err != nil {
			return err
		}
		*sealed, *l4 = &v, last4(*c.Value)
		return nil
	}
	if err := seal(FieldAuthToken, p.AuthToken, &next.AuthTokenSealed, &next.AuthTokenLast4); err != nil {
		return before, before, err
	}
	if err := seal(FieldAPIKeySecret, p.APIKeySecret, &next.ApiKeySecretSealed, &next.ApiKeySecretLast4); err != nil {
		return before, before, err
	}
	if err := checkCombination(next); err != nil {
		return before, before, err
	}
	var r dbsqlc.SmsSetting
	if cur.UpdatedAt.IsZero() {
		r, err = s.q.SmsSettingsInsert(ctx, tx, dbsqlc.SmsSettingsInsertParams{
			TenantID: tx.TenantID(), AccountSid: next.AccountSid, AuthTokenSealed: next.AuthTokenSealed, AuthTokenLast4: next.AuthTokenLast4,
			ApiKeySid: next.ApiKeySid, ApiKeySecretSealed: next.ApiKeySecretSealed, ApiKeySecretLast4: next.ApiKeySecretLast4,
			FromNumber: next.FromNumber, MessagingServiceSid: next.MessagingServiceSid, TimeZone: next.TimeZone,
			QuietStart: next.QuietStart, QuietEnd: next.QuietEnd, RatePerSecond: next.RatePerSecond,
			MinDaysBetween: next.MinDaysBetween, PortalUrl: next.PortalUrl,
		})
	} else {
		r, err = s.q.SmsSettingsUpdate(ctx, tx, dbsqlc.SmsSettingsUpdateParams{
			TenantID: tx.TenantID(), AccountSid: next.AccountSid, AuthTokenSealed: next.AuthTokenSealed, AuthTokenLast4: next.AuthTokenLast4,
			ApiKeySid: next.ApiKeySid, ApiKeySecretSealed: next.ApiKeySecretSealed, ApiKeySecretLast4: next.ApiKeySecretLast4,
			FromNumber: next.FromNumber, MessagingServiceSid: next.MessagingServiceSid, TimeZone: next.TimeZone,
			QuietStart: next.QuietStart, QuietEnd: next.QuietEnd, RatePerSecond: next.RatePerSecond,
			MinDaysBetween: next.MinDaysBetween, PortalUrl: next.PortalUrl,
		})
	}
	if err != nil {
		return before, before, fmt.Errorf("write sms settings: %w", err)
	}
	return before, toSettings(r), nil
}

// Sender is what sending needs of a tenant's settings: its opened
// credentials, its sender, its window and pace.
type Sender struct {
	Credentials         Credentials
	FromNumber          string
	MessagingServiceSID string
	Window              Window
	RatePerSecond       int32
	MinDaysBetween      int32
	Settings            Settings
}

// Sender opens the tenant's credentials for sending. ErrNoCredentials when
// the settings are not complete (Settings.Configured).
func (s *Service) Sender(ctx context.Context, tx database.Tx) (Sender, error) {
	r, err := s.row(ctx, tx, false)
	if err != nil {
		return Sender{}, err
	}
	st := toSettings(r)
	if !st.Configured() {
		return Sender{}, ErrNoCredentials
	}
	out := Sender{Credentials: Credentials{AccountSID: *r.AccountSid}, RatePerSecond: r.RatePerSecond,
		MinDaysBetween: r.MinDaysBetween, Settings: st}
	if r.AuthTokenSealed != nil {
		if out.Credentials.AuthToken, err = s.box.Open(tx.TenantID(), FieldAuthToken, *r.AuthTokenSealed); err != nil {
			return Sender{}, fmt.Errorf("open auth token: %w", err)
		}
	}
	if r.ApiKeySid != nil && r.ApiKeySecretSealed != nil {
		out.Credentials.APIKeySID = *r.ApiKeySid
		if out.Credentials.APIKeySecret, err = s.box.Open(tx.TenantID(), FieldAPIKeySecret, *r.ApiKeySecretSealed); err != nil {
			return Sender{}, fmt.Errorf("open api key secret: %w", err)
		}
	}
	if r.FromNumber != nil {
		out.FromNumber = *r.FromNumber
	}
	if r.MessagingServiceSid != nil {
		out.MessagingServiceSID = *r.MessagingServiceSid
	}
	if out.Window, err = st.Window(); err != nil {
		return Sender{}, fmt.Errorf("sending window: %w", err)
	}
	return out, nil
}

// TwilioClient returns a twilio-go client for a tenant's sender, talking
// to the configured API URL.
func (s *Service) TwilioClient(snd Sender) (*twilio.RestClient, error) {
	return NewTwilioClient(snd.Credentials, s.Twilio)
}

// Reseal seals the tenant's credentials again under the current key when
// another key sealed them, and reports whether it changed anything.
func (s *Service) Reseal(ctx context.Context, tx database.Tx) (bool, error) {
	if !s.box.CanSeal() {
		return false, ErrNoSecretKey
	}
	r, err := s.q.SmsSettingsGetForUpdate(ctx, tx, tx.TenantID())
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock sms settings: %w", err)
	}
	changed := false
	for _, f := range []struct {
		name   string
		sealed **string
	}{{FieldAuthToken, &r.AuthTokenSealed}, {FieldAPIKeySecret, &r.ApiKeySecretSealed}} {
		if *f.sealed == nil || s.box.IsCurrent(**f.sealed) {
			continue
		}
		v, err := s.box.Reseal(tx.TenantID(), f.name, **f.sealed)
		if err != nil {
			return false, fmt.Errorf("reseal %s: %w", f.name, err)
		}
		*f.sealed, changed = &v, true
	}
	if !changed {
		return false, nil
	}
	err = s.q.SmsSettingsResealed(ctx, tx, dbsqlc.SmsSettingsResealedParams{TenantID: tx.TenantID(),
		AuthTokenSealed: r.AuthTokenSealed, ApiKeySecretSealed: r.ApiKeySecretSealed})
	if err != nil {
		return false, fmt.Errorf("store resealed secrets: %w", err)
	}
	return true, nil
}

// ---- templates ---------------------------------------------------------------

// TemplateCursor is the position after the last template of a page.
type TemplateCursor struct {
	Name string    `json:"n"`
	ID   uuid.UUID `json:"i"`
}

// TemplateCreate stores a validated template and records the audit event.
func (s *Service) TemplateCreate(ctx context.Context, tx database.Tx, in TemplateInput) (dbsqlc.SmsTemplate, error) {
	t, err := s.q.SmsTemplateInsert(ctx, tx, dbsqlc.SmsTemplateInsertParams{TenantID: tx.TenantID(), ID: uuid.New(), Name: in.Name, Body: in.Body})
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrTemplateNameUsed
	}
	if err != nil {
		return t, fmt.Errorf("insert sms template: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Event{Entity: EntityTemplate, EntityID: t.ID, Action: audit.ActionCreate, After: toTemplateResponse(t)}); err != nil {
		return t, err
	}
	return t, nil
}

// TemplateGet returns a template of the tenant.
func (s *Service) TemplateGet(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.SmsTemplate, error) {
	t, err := s.q.SmsTemplateGetByID(ctx, tx, dbsqlc.SmsTemplateGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrTemplateNotFound
	}
	if err != nil {
		return t, fmt.Errorf("get sms template: %w", err)
	}
	return t, nil
}

// TemplateList returns up to limit templates after the cursor, by name.
func (s *Service) TemplateList(ctx context.Context, tx database.Tx, after *TemplateCursor, limit int32) ([]dbsqlc.SmsTemplate, error) {
	p := dbsqlc.SmsTemplateListParams{TenantID: tx.TenantID(), RowLimit: limit}
	if after != nil {
		p.AfterName, p.AfterID = &after.Name, &after.ID
	}
	rows, err := s.q.SmsTemplateList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list sms templates: %w", err)
	}
	return rows, nil
}

// TemplateUpdate applies a validated patch when want matches, records the
// change against the row as it locked it, and returns the template after.
func (s *Service) TemplateUpdate(ctx context.Context, tx database.Tx, id uuid.UUID, want precondition.IfMatch, p TemplatePatch) (dbsqlc.SmsTemplate, error) {
	cur, err := s.q.SmsTemplateGetByIDForUpdate(ctx, tx, dbsqlc.SmsTemplateGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.SmsTemplate{}, ErrTemplateNotFound
	}
	if err != nil {
		return dbsqlc.SmsTemplate{}, fmt.Errorf("lock sms template: %w", err)
	}
	if !want.Matches(cur.Version) {
		return dbsqlc.SmsTemplate{}, ErrVersionMismatch
	}
	next := dbsqlc.SmsTemplateUpdateParams{TenantID: tx.TenantID(), ID: id, Name: cur.Name, Body: cur.Body}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Body != nil {
		next.Body = *p.Body
	}
	t, err := s.q.SmsTemplateUpdate(ctx, tx, next)
	if database.IsUniqueViolation(err, "sms_templates_name_key") {
		return dbsqlc.SmsTemplate{}, ErrTemplateNameUsed
	}
	if err != nil {
		return dbsqlc.SmsTemplate{}, fmt.Errorf("update sms template: %w", err)
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: EntityTemplate, EntityID: id, Action: audit.ActionUpdate,
		Before: toTemplateResponse(cur), After: toTemplateResponse(t)})
	if err != nil {
		return dbsqlc.SmsTemplate{}, err
	}
	return t, nil
}

// TemplateDelete removes a template, locked first, records the audit event
// and returns it as it was.
func (s *Service) TemplateDelete(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.SmsTemplate, error) {
	cur, err := s.q.SmsTemplateGetByIDForUpdate(ctx, tx, dbsqlc.SmsTemplateGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return cur, ErrTemplateNotFound
	}
	if err != nil {
		return cur, fmt.Errorf("lock sms template: %w", err)
	}
	if _, err := s.q.SmsTemplateDelete(ctx, tx, dbsqlc.SmsTemplateDeleteParams{TenantID: tx.TenantID(), ID: id}); err != nil {
		return cur, fmt.Errorf("delete sms template: %w", err)
	}
	return cur, audit.Record(ctx, tx, audit.Event{Entity: EntityTemplate, EntityID: id, Action: audit.ActionDelete, Before: toTemplateResponse(cur)})
}

// ---- rendering ---------------------------------------------------------------

// Rendered is a message as it would be sent.
type Rendered struct {
	Text string
	Measurement
}

// CustomerVars reads a customer's placeholder values as the caller sees
// the customer (ErrCustomerNotFound when it does not), money in the
// customer's currency.
func (s *Service) CustomerVars(ctx context.Context, tx database.Tx, customerID uuid.UUID, st Settings) (Vars, error) {
	r, err := s.q.SmsCustomerVars(ctx, tx, dbsqlc.SmsCustomerVarsParams{TenantID: tx.TenantID(), ID: customerID})
	if errors.Is(err, pgx.ErrNoRows) {
		return Vars{}, ErrCustomerNotFound
	}
	if err != nil {
		return Vars{}, fmt.Errorf("read customer for sms: %w", err)
	}
	v := Vars{Name: r.Name, Balance: money.Format(r.Balance, r.Currency), Currency: r.Currency,
		Overdue: money.Format(r.OverdueAmount, r.Currency), OldestDueDate: r.OldestDueDate, Company: r.Company}
	if st.PortalURL != nil {
		v.PortalURL = *st.PortalURL
	}
	return v, nil
}

// Render fills a body in for a customer. field names the body in errors:
// a body that does not parse, or one using {portal_url} while the
// settings have none.
func (s *Service) Render(ctx context.Context, tx database.Tx, field, body string, customerID uuid.UUID) (Rendered, error) {
	t, err := ParseTemplate(field, body)
	if err != nil {
		return Rendered{}, err
	}
	st, err := s.Settings(ctx, tx)
	if err != nil {
		return Rendered{}, err
	}
	if t.Uses("portal_url") && st.PortalURL == nil {
		return Rendered{}, validation.Errors{{Field: field, Code: "portal_url_unset",
			Message: "the body uses {portal_url} but the SMS settings have no portal_url"}}
	}
	v, err := s.CustomerVars(ctx, tx, customerID, st)
	if err != nil {
		return Rendered{}, err
	}
	text := t.Render(v)
	return Rendered{Text: text, Measurement: Measure(text)}, nil
}
