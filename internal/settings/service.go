package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Service implements the package's operations inside the caller's tenant
// transaction.
type Service struct {
	q      *dbsqlc.Queries
	logger *slog.Logger
	envs   envCache
}

// NewService returns a Service.
func NewService(logger *slog.Logger) *Service {
	return &Service{q: dbsqlc.New(), logger: logger}
}

// Get returns the tenant's settings. Every tenant has a settings row
// (written at signup, and by the migration for older tenants), so a
// missing one is an internal error, not a 404.
func (s *Service) Get(ctx context.Context, tx database.Tx) (Settings, error) {
	r, err := s.q.SettingsGet(ctx, tx, tx.TenantID())
	if err != nil {
		return Settings{}, fmt.Errorf("get tenant settings: %w", err)
	}
	return toSettings(r), nil
}

// Update applies a patch when want matches the stored version, records the
// change against the row as it locked it, and returns the settings after.
func (s *Service) Update(ctx context.Context, tx database.Tx, want precondition.IfMatch, p SettingsPatch) (Settings, error) {
	cur, err := s.q.SettingsGetForUpdate(ctx, tx, tx.TenantID())
	if err != nil {
		return Settings{}, fmt.Errorf("lock tenant settings: %w", err)
	}
	before := toSettings(cur)
	if !want.Matches(cur.Version) {
		return Settings{}, ErrVersionMismatch
	}
	next := dbsqlc.SettingsUpdateParams{
		TenantID: tx.TenantID(), RequiredFields: before.RequiredFields, DefaultCountry: cur.DefaultCountry,
		DefaultCurrency: cur.DefaultCurrency, DefaultPaymentTermsID: cur.DefaultPaymentTermsID,
		DefaultCreditPolicy: cur.DefaultCreditPolicy, DormantAfterDays: cur.DormantAfterDays,
		DormantIncludeOpenBalance: cur.DormantIncludeOpenBalance, DormantSweepHour: cur.DormantSweepHour,
	}
	if p.RequiredFields != nil {
		next.RequiredFields = *p.RequiredFields
	}
	if p.DefaultCountry != nil {
		next.DefaultCountry = *p.DefaultCountry
	}
	if p.DefaultCurrency != nil {
		next.DefaultCurrency = *p.DefaultCurrency
	}
	if p.DefaultPaymentTermsIDSet {
		next.DefaultPaymentTermsID = p.DefaultPaymentTermsID
	}
	if p.DefaultCreditPolicy != nil {
		next.DefaultCreditPolicy = *p.DefaultCreditPolicy
	}
	if p.DormantAfterDays != nil {
		next.DormantAfterDays = int32(*p.DormantAfterDays)
	}
	if p.DormantIncludeOpenBalance != nil {
		next.DormantIncludeOpenBalance = *p.DormantIncludeOpenBalance
	}
	if p.DormantSweepHour != nil {
		next.DormantSweepHour = int32(*p.DormantSweepHour)
	}
	// The foreign key checks the payment terms exist in this tenant (it
	// includes tenant_id), so another tenant's id is as unknown as a
	// random one.
	r, err := s.q.SettingsUpdate(ctx, tx, next)
	if database.IsForeignKeyViolation(err, "tenant_settings_payment_terms_fkey") {
		return Settings{}, validation.Errors{{Field: "default_payment_terms_id", Code: "not_found", Message: "no payment terms with this id"}}
	}
	if err != nil {
		return Settings{}, fmt.Errorf("update tenant settings: %w", err)
	}
	after := toSettings(r)
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntitySettings, EntityID: tx.TenantID(), Action: audit.ActionUpdate,
		Before: toSettingsResponse(before), After: toSettingsResponse(after)})
	if err != nil {
		return Settings{}, err
	}
	return after, nil
}

// Env loads the tenant's settings and custom field definitions, in one
// query, or takes them from the process's copy when the request's
// authentication read the versions that copy was read at (envCache).
func (s *Service) Env(ctx context.Context, tx database.Tx) (Env, error) {
	p, authenticated := tenant.FromContext(ctx)
	if authenticated && p.TenantID == tx.TenantID() {
		if env, ok := s.envs.get(p.TenantID, p.SettingsVersion, p.FieldsVersion); ok {
			return env, nil
		}
	}
	row, err := s.q.SettingsWithFields(ctx, tx, tx.TenantID())
	if err != nil {
		return Env{}, fmt.Errorf("get tenant settings: %w", err)
	}
	var defs []struct {
		ID       uuid.UUID `json:"id"`
		Key      string    `json:"key"`
		Label    string    `json:"label"`
		Type     string    `json:"type"`
		Required bool      `json:"required"`
		Options  []string  `json:"options"`
		Position int32     `json:"position"`
	}
	if err := json.Unmarshal(row.Fields, &defs); err != nil {
		return Env{}, fmt.Errorf("decode custom fields: %w", err)
	}
	fields := make([]FieldDef, 0, len(defs))
	for _, d := range defs {
		fields = append(fields, FieldDef{ID: d.ID, Key: d.Key, Label: d.Label, Type: d.Type, Required: d.Required, Options: d.Options, Position: d.Position})
	}
	env := Env{Settings: toSettings(row.TenantSetting), Fields: fields}
	// Kept only when what was read is what authentication saw committed:
	// versions that moved since may be this transaction's own change,
	// which could still roll back.
	if authenticated && p.TenantID == tx.TenantID() &&
		row.TenantSetting.Version == p.SettingsVersion && row.TenantSetting.FieldsVersion == p.FieldsVersion {
		s.envs.put(tx.TenantID(), p.SettingsVersion, p.FieldsVersion, env)
	}
	return env, nil
}

// FieldCursor is the position after the last definition of a page.
type FieldCursor struct {
	Position int32  `json:"p"`
	Key      string `json:"k"`
}

// FieldCreate adds a custom field definition and records the audit event.
// At most MaxFields per tenant.
func (s *Service) FieldCreate(ctx context.Context, tx database.Tx, in FieldInput) (dbsqlc.CustomFieldDef, error) {
	// Counting alone would let two concurrent creations both see 49 and
	// make 51: the lock on the tenant's settings row makes creations in a
	// tenant take turns, so each counts what the previous one committed.
	if _, err := s.q.SettingsGetForUpdate(ctx, tx, tx.TenantID()); err != nil {
		return dbsqlc.CustomFieldDef{}, fmt.Errorf("lock tenant settings: %w", err)
	}
	n, err := s.q.CustomFieldDefCount(ctx, tx, tx.TenantID())
	if err != nil {
		return dbsqlc.CustomFieldDef{}, fmt.Errorf("count custom fields: %w", err)
	}
	if n >= MaxFields {
		return dbsqlc.CustomFieldDef{}, ErrLimitReached
	}
	f, err := s.q.CustomFieldDefInsert(ctx, tx, dbsqlc.CustomFieldDefInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), Key: in.Key, Label: in.Label, Type: in.Type,
		Required: in.Required, Options: in.Options, Position: int32(in.Position),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.CustomFieldDef{}, ErrKeyTaken
	}
	if err != nil {
		return dbsqlc.CustomFieldDef{}, fmt.Errorf("insert custom field: %w", err)
	}
	if err := s.fieldsChanged(ctx, tx); err != nil {
		return dbsqlc.CustomFieldDef{}, err
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomField, EntityID: f.ID, Action: audit.ActionCreate, After: toFieldResponse(f)})
	if err != nil {
		return dbsqlc.CustomFieldDef{}, err
	}
	return f, nil
}

// FieldGet returns a custom field definition of the tenant.
func (s *Service) FieldGet(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.CustomFieldDef, error) {
	f, err := s.q.CustomFieldDefGetByID(ctx, tx, dbsqlc.CustomFieldDefGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.CustomFieldDef{}, ErrFieldNotFound
	}
	if err != nil {
		return dbsqlc.CustomFieldDef{}, fmt.Errorf("get custom field: %w", err)
	}
	return f, nil
}

// FieldList returns up to limit definitions after the cursor, by position
// and key.
func (s *Service) FieldList(ctx context.Context, tx database.Tx, after *FieldCursor, limit int32) ([]dbsqlc.CustomFieldDef, error) {
	p := dbsqlc.CustomFieldDefListParams{TenantID: tx.TenantID(), RowLimit: limit}
	if after != nil {
		p.AfterPosition, p.AfterKey = &after.Position, &after.Key
	}
	rows, err := s.q.CustomFieldDefList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list custom fields: %w", err)
	}
	return rows, nil
}

// FieldUpdate applies a patch when want matches the stored version, records
// the change against the row as it locked it, and returns the definition
// after.
//
// Changing a select's options, or making a field required, does not touch
// the customers: values that no longer pass stay stored (and shown) until
// that customer's next write, which validates every stored value again
// (Env.ApplyCustom) and asks for a fix. Rewriting every customer here would
// either drop data silently or hold the tenant's customers locked for a
// long transaction.
func (s *Service) FieldUpdate(ctx context.Context, tx database.Tx, id uuid.UUID, want precondition.IfMatch, p FieldPatch) (dbsqlc.CustomFieldDef, error) {
	cur, err := s.q.CustomFieldDefGetByIDForUpdate(ctx, tx, dbsqlc.CustomFieldDefGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.CustomFieldDef{}, ErrFieldNotFound
	}
	if err != nil {
		return dbsqlc.CustomFieldDef{}, fmt.Errorf("lock custom field: %w", err)
	}
	if !want.Matches(cur.Version) {
		return dbsqlc.CustomFieldDef{}, ErrVersionMismatch
	}
	// Options are checked against the stored type, so this runs after the
	// lock.
	if err := p.Validate(cur.Type); err != nil {
		return dbsqlc.CustomFieldDef{}, err
	}
	next := dbsqlc.CustomFieldDefUpdateParams{TenantID: tx.TenantID(), ID: id, Label: cur.Label, Required: cur.Required,
		Options: cur.Options, Position: cur.Position}
	if next.Options == nil {
		next.Options = []string{}
	}
	if p.Label != nil {
		next.Label = *p.Label
	}
	if p.Required != nil {
		next.Required = *p.Required
	}
	if p.Options != nil {
		next.Options = *p.Options
	}
	if p.Position != nil {
		next.Position = int32(*p.Position)
	}
	f, err := s.q.CustomFieldDefUpdate(ctx, tx, next)
	if err != nil {
		return dbsqlc.CustomFieldDef{}, fmt.Errorf("update custom field: %w", err)
	}
	if err := s.fieldsChanged(ctx, tx); err != nil {
		return dbsqlc.CustomFieldDef{}, err
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomField, EntityID: id, Action: audit.ActionUpdate,
		Before: toFieldResponse(cur), After: toFieldResponse(f)})
	if err != nil {
		return dbsqlc.CustomFieldDef{}, err
	}
	return f, nil
}

// FieldDelete removes a definition and its value from every customer of
// the tenant, records the audit event, and returns the definition as it
// was and how many customers held a value. tx must see every customer of the tenant (visibility
// 'all'): under a narrower scope the customers policy would hide some, and
// their values would outlive the definition.
//
// A customer write that read the definitions before this transaction and
// commits after its UPDATE can still store the key. Such a value is not
// shown (Visible drops keys without a definition) and the customer's next
// write drops it (ApplyCustom); only if a field with the same key is
// created before that does it reappear, and then it is validated against
// the new definition on the customer's next write.
func (s *Service) FieldDelete(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.CustomFieldDef, int64, error) {
	cur, err := s.q.CustomFieldDefGetByIDForUpdate(ctx, tx, dbsqlc.CustomFieldDefGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return cur, 0, ErrFieldNotFound
	}
	if err != nil {
		return cur, 0, fmt.Errorf("lock custom field: %w", err)
	}
	n, err := s.q.CustomFieldValuesDelete(ctx, tx, dbsqlc.CustomFieldValuesDeleteParams{TenantID: tx.TenantID(), Key: cur.Key})
	if err != nil {
		return cur, 0, fmt.Errorf("delete custom values: %w", err)
	}
	if _, err := s.q.CustomFieldDefDelete(ctx, tx, dbsqlc.CustomFieldDefDeleteParams{TenantID: tx.TenantID(), ID: id}); err != nil {
		return cur, 0, fmt.Errorf("delete custom field: %w", err)
	}
	if err := s.fieldsChanged(ctx, tx); err != nil {
		return cur, 0, err
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomField, EntityID: id, Action: audit.ActionDelete, Before: toFieldResponse(cur)})
	if err != nil {
		return cur, 0, err
	}
	return cur, n, nil
}

// fieldsChanged moves the version of the tenant's field definitions, in
// the transaction that changed them.
func (s *Service) fieldsChanged(ctx context.Context, tx database.Tx) error {
	if err := s.q.SettingsFieldsChanged(ctx, tx, tx.TenantID()); err != nil {
		return fmt.Errorf("version custom fields: %w", err)
	}
	return nil
}
