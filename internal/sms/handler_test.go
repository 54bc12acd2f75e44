package sms_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/ratelimit"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const (
	acct       = "AC0123456789abcdef0123456789abcdef"
	token      = "Tok3nSecretValue0123456789abcXYZ"
	keySID     = "SK0123456789abcdef0123456789abcdef"
	keySecret  = "KeySecretValue0123456789abcdefQR"
	msgService = "MG0123456789abcdef0123456789abcdef"
)

type testBundle struct {
	app *apptest.App
	tn  apptest.Tenant
	key []byte
}

func setup(t *testing.T) testBundle {
	t.Helper()
	k := key(t)
	app := apptest.New(t, dbtest.Shared(t), map[string]string{"CUSTOMERHUB_SECRET_KEY": base64.StdEncoding.EncodeToString(k)})
	return testBundle{app: app, tn: app.Signup(t), key: k}
}

// svc is an SMS service with the application's key.
func (b testBundle) svc(t *testing.T) *sms.Service {
	t.Helper()
	box, err := sms.NewSecretBox(b.key)
	require.NoError(t, err)
	return sms.NewService(box, slog.New(slog.DiscardHandler))
}

// tx runs fn in a transaction that sees the whole of tenant tn.
func (b testBundle) tx(t *testing.T, tn apptest.Tenant, fn func(ctx context.Context, tx database.Tx) error) {
	t.Helper()
	require.NoError(t, database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)), fn))
}

func (b testBundle) stored(t *testing.T, tn apptest.Tenant) (sealed *string, raw string) {
	t.Helper()
	b.tx(t, tn, func(ctx context.Context, tx database.Tx) error {
		return tx.QueryRow(ctx, `SELECT auth_token_sealed, row_to_json(s)::text FROM sms_settings s WHERE tenant_id = $1`, tn.ID).Scan(&sealed, &raw)
	})
	return sealed, raw
}

func fields(t *testing.T, resp *apptest.Response) map[string]string {
	t.Helper()
	var p struct {
		Errors []struct{ Field, Code string }
	}
	resp.JSON(t, &p)
	out := map[string]string{}
	for _, e := range p.Errors {
		out[e.Field] = e.Code
	}
	return out
}

func configure(t *testing.T, b testBundle, tn apptest.Tenant) *apptest.Response {
	t.Helper()
	resp := b.app.Patch(t, "/v1/sms/settings", tn.AdminToken, `"1"`, map[string]any{
		"account_sid": acct, "auth_token": token, "from_number": "+14155550100", "time_zone": "America/New_York",
		"quiet_start": "09:00", "quiet_end": "20:00", "rate_per_second": 3, "min_days_between": 14,
	})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return resp
}

func TestSMSSettings(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Get(t, "/v1/sms/settings", b.tn.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"1"`, resp.Header.Get("ETag"))
		require.Equal(t, map[string]any{
			"account_sid": nil, "auth_token_set": false, "auth_token_last4": nil, "api_key_sid": nil, "api_key_secret_set": false,
			"api_key_secret_last4": nil, "from_number": nil, "messaging_service_sid": nil, "time_zone": "UTC",
			"quiet_start": "08:00", "quiet_end": "21:00", "rate_per_second": float64(1), "min_days_between": float64(7),
			"portal_url": nil, "configured": false, "version": float64(1), "updated_at": nil,
		}, resp.Map(t))
	})
	t.Run("UpdateSealsAndNeverAnswersSecrets", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := configure(t, b, b.tn)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		require.NotContains(t, string(resp.Body), token)
		got := resp.Map(t)
		require.Equal(t, true, got["auth_token_set"])
		require.Equal(t, "cXYZ", got["auth_token_last4"])
		require.Equal(t, true, got["configured"])
		require.Equal(t, "America/New_York", got["time_zone"])
		require.Equal(t, float64(3), got["rate_per_second"])
		require.NotContains(t, got, "auth_token")

		get := b.app.Get(t, "/v1/sms/settings", b.tn.AdminToken)
		require.NotContains(t, string(get.Body), token)
		require.Equal(t, `"2"`, get.Header.Get("ETag"))

		sealed, raw := b.stored(t, b.tn)
		require.NotContains(t, raw, token, "stored sealed, never in the clear")
		require.True(t, strings.HasPrefix(*sealed, "v1:"+sms.KeyID(b.key)+":"))

		audit := b.app.Get(t, "/v1/audit?entity=sms_settings&id="+b.tn.ID, b.tn.AdminToken)
		require.Equal(t, http.StatusOK, audit.Status, "%s", audit.Body)
		require.Contains(t, string(audit.Body), "auth_token_set")
		require.Contains(t, string(audit.Body), "cXYZ")
		require.NotContains(t, string(audit.Body), token)

		// The sender opens what was sealed.
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			s, err := b.svc(t).Sender(ctx, tx)
			require.NoError(t, err)
			require.Equal(t, sms.Credentials{AccountSID: acct, AuthToken: token}, s.Credentials)
			require.Equal(t, "+14155550100", s.FromNumber)
			require.Equal(t, int32(14), s.MinDaysBetween)
			require.Equal(t, "America/New_York", s.Window.Location.String())
			return nil
		})

		// Switching to a Messaging Service and an API key; the token stays.
		resp = b.app.Patch(t, "/v1/sms/settings", b.tn.AdminToken, `"2"`, map[string]any{
			"from_number": nil, "messaging_service_sid": msgService, "api_key_sid": keySID, "api_key_secret": keySecret,
		})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.NotContains(t, string(resp.Body), keySecret)
		got = resp.Map(t)
		require.Equal(t, msgService, got["messaging_service_sid"])
		require.Nil(t, got["from_number"])
		require.Equal(t, true, got["api_key_secret_set"])
		require.Equal(t, "efQR", got["api_key_secret_last4"])
		require.Equal(t, true, got["auth_token_set"])
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Patch(t, "/v1/sms/settings", b.tn.AdminToken, `"1"`, map[string]any{
			"account_sid": "AC12", "auth_token": "bad token!", "from_number": "4155550100", "messaging_service_sid": "MG1",
			"time_zone": "Moon/Base", "quiet_start": "8am", "quiet_end": "24:00", "rate_per_second": 0, "min_days_between": -1,
			"api_key_sid": "SK1",
		})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.NotContains(t, string(resp.Body), "bad token!")
		require.Equal(t, map[string]string{
			"account_sid": "invalid", "auth_token": "invalid", "from_number": "invalid", "messaging_service_sid": "invalid",
			"time_zone": "invalid", "quiet_start": "invalid", "quiet_end": "invalid", "rate_per_second": "out_of_range",
			"min_days_between": "out_of_range", "api_key_sid": "invalid",
		}, fields(t, resp))

		resp = b.app.Patch(t, "/v1/sms/settings", b.tn.AdminToken, `"1"`, map[string]any{
			"auth_token": token, "from_number": "+14155550100", "messaging_service_sid": msgService, "api_key_sid": keySID,
			"quiet_start": "10:00", "quiet_end": "10:00",
		})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{
			"account_sid": "required", "from_number": "one_sender", "messaging_service_sid": "one_sender",
			"api_key_secret": "required", "quiet_end": "invalid",
		}, fields(t, resp))

		resp = b.app.Patch(t, "/v1/sms/settings", b.tn.AdminToken, `"1"`, map[string]any{"auth_tokn": token})
		require.Equal(t, http.StatusBadRequest, resp.Status, "unknown field: %s", resp.Body)
		require.Equal(t, `"1"`, b.app.Get(t, "/v1/sms/settings", b.tn.AdminToken).Header.Get("ETag"), "nothing stored")
	})
	t.Run("IfMatch", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Do(t, apptest.Req{Method: http.MethodPatch, Path: "/v1/sms/settings", Token: b.tn.AdminToken,
			Body: map[string]any{"time_zone": "Asia/Tokyo"}})
		require.Equal(t, http.StatusPreconditionRequired, resp.Status)
		configure(t, b, b.tn)
		resp = b.app.Patch(t, "/v1/sms/settings", b.tn.AdminToken, `"1"`, map[string]any{"time_zone": "Asia/Tokyo"})
		require.Equal(t, http.StatusPreconditionFailed, resp.Status, "%s", resp.Body)
	})
	t.Run("WithoutSecretKey", func(t *testing.T) {
		t.Parallel()
		app := apptest.New(t, dbtest.Shared(t), nil)
		tn := app.Signup(t)
		resp := app.Patch(t, "/v1/sms/settings", tn.AdminToken, `"1"`, map[string]any{"account_sid": acct, "auth_token": token})
		require.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s", resp.Body)
		require.Equal(t, "secret_key_missing", resp.Map(t)["code"])
		require.Contains(t, string(resp.Body), "CUSTOMERHUB_SECRET_KEY")
		require.Equal(t, `"1"`, app.Get(t, "/v1/sms/settings", tn.AdminToken).Header.Get("ETag"), "nothing stored")
		resp = app.Patch(t, "/v1/sms/settings", tn.AdminToken, `"1"`, map[string]any{"time_zone": "Asia/Tokyo"})
		require.Equal(t, http.StatusOK, resp.Status, "settings without secrets need no key: %s", resp.Body)
	})
	t.Run("OtherTenantAndPermissions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		configure(t, b, b.tn)
		other := b.app.Signup(t)
		resp := b.app.Get(t, "/v1/sms/settings", other.AdminToken)
		require.Equal(t, false, resp.Map(t)["configured"])
		rep := b.app.CreateUser(t, b.tn, auth.RoleSalesRep, nil)
		require.Equal(t, http.StatusForbidden, b.app.Get(t, "/v1/sms/settings", rep.Token).Status)
		require.Equal(t, http.StatusForbidden, b.app.Patch(t, "/v1/sms/settings", rep.Token, `"2"`, map[string]any{"time_zone": "UTC"}).Status)
	})
	t.Run("CiphertextCannotMoveBetweenTenants", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		configure(t, b, b.tn)
		other := b.app.Signup(t)
		configure(t, b, other)
		sealedA, _ := b.stored(t, b.tn)
		b.tx(t, other, func(ctx context.Context, tx database.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE sms_settings SET auth_token_sealed = $1 WHERE tenant_id = $2`, *sealedA, other.ID)
			require.NoError(t, err)
			_, err = b.svc(t).Sender(ctx, tx)
			require.ErrorIs(t, err, sms.ErrSealedValue)
			return nil
		})
	})
	t.Run("PlaintextRefusedByTheDatabase", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		configure(t, b, b.tn)
		err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(b.tn.ID)),
			func(ctx context.Context, tx database.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE sms_settings SET auth_token_sealed = $1 WHERE tenant_id = $2`, token, b.tn.ID)
				return err
			})
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "%v", err)
		require.Equal(t, "sms_settings_auth_token_sealed_check", pgErr.ConstraintName)
	})
	t.Run("Rotation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		configure(t, b, b.tn)
		newKey := key(t)
		rotating, err := sms.NewSecretBox(newKey, b.key)
		require.NoError(t, err)
		svc := sms.NewService(rotating, slog.New(slog.DiscardHandler))
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			changed, err := svc.Reseal(ctx, tx)
			require.NoError(t, err)
			require.True(t, changed)
			changed, err = svc.Reseal(ctx, tx)
			require.NoError(t, err)
			require.False(t, changed, "already under the current key")
			return nil
		})
		sealed, _ := b.stored(t, b.tn)
		require.True(t, strings.HasPrefix(*sealed, "v1:"+sms.KeyID(newKey)+":"))
		onlyNew, err := sms.NewSecretBox(newKey)
		require.NoError(t, err)
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			s, err := sms.NewService(onlyNew, slog.New(slog.DiscardHandler)).Sender(ctx, tx)
			require.NoError(t, err)
			require.Equal(t, token, s.Credentials.AuthToken)
			return nil
		})
		require.Equal(t, `"2"`, b.app.Get(t, "/v1/sms/settings", b.tn.AdminToken).Header.Get("ETag"), "rotation is not an edit")
	})
}

// syncBuffer is a log sink shared by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestSecretsNeverLogged serves requests that carry credentials through
// an application logging everything (debug) and searches the log.
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b.app.Server = server.New(server.Deps{Config: b.app.Config, Pool: b.app.DB.App, River: b.app.River,
		Limiter: ratelimit.New(nil, logger), Registry: prometheus.NewRegistry(), Logger: logger})

	configure(t, b, b.tn)
	for _, body := range []map[string]any{
		{"auth_token": token + "!", "api_key_secret": keySecret + "?"},            // invalid: 400
		{"api_key_secret": keySecret, "account_sid": nil},                         // combination: 422
		{"auth_token": token, "api_key_sid": keySID, "api_key_secret": keySecret}, // success
		{"auth_token": token, "time_zone": "Nowhere/" + strings.Repeat("x", 10)},  // 400 beside a good secret
	} {
		resp := b.app.Patch(t, "/v1/sms/settings", b.tn.AdminToken, b.app.Get(t, "/v1/sms/settings", b.tn.AdminToken).Header.Get("ETag"), body)
		require.NotContains(t, string(resp.Body), token)
		require.NotContains(t, string(resp.Body), keySecret)
	}
	require.NotEmpty(t, logs.String(), "the requests were logged")
	require.NotContains(t, logs.String(), token)
	require.NotContains(t, logs.String(), keySecret)
	require.NotContains(t, logs.String(), "Tok3n")
}

func TestTemplates(t *testing.T) {
	t.Parallel()

	t.Run("CRUD", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/sms/templates", b.tn.AdminToken, map[string]any{"name": " Reminder ", "body": "Hi {name}, you owe {balance} {currency}."})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		created := resp.Map(t)
		id := created["id"].(string)
		require.Equal(t, "Reminder", created["name"])
		require.Equal(t, []any{"name", "balance", "currency"}, created["placeholders"])
		require.Equal(t, "/v1/sms/templates/"+id, resp.Header.Get("Location"))

		dup := b.app.Post(t, "/v1/sms/templates", b.tn.AdminToken, map[string]any{"name": "Reminder", "body": "x"})
		require.Equal(t, http.StatusConflict, dup.Status, "%s", dup.Body)

		for i := range 3 {
			require.Equal(t, http.StatusCreated, b.app.Post(t, "/v1/sms/templates", b.tn.AdminToken,
				map[string]any{"name": "T" + string(rune('a'+i)), "body": "x"}).Status)
		}
		page := b.app.Get(t, "/v1/sms/templates?limit=3", b.tn.AdminToken)
		require.Equal(t, http.StatusOK, page.Status, "%s", page.Body)
		var list struct {
			Items      []struct{ Name string }
			NextCursor *string `json:"next_cursor"`
		}
		page.JSON(t, &list)
		require.Equal(t, []string{"Reminder", "Ta", "Tb"}, []string{list.Items[0].Name, list.Items[1].Name, list.Items[2].Name})
		require.NotNil(t, list.NextCursor)
		page = b.app.Get(t, "/v1/sms/templates?limit=3&cursor="+*list.NextCursor, b.tn.AdminToken)
		page.JSON(t, &list)
		require.Len(t, list.Items, 1)
		require.Equal(t, "Tc", list.Items[0].Name)
		require.Nil(t, list.NextCursor)

		get := b.app.Get(t, "/v1/sms/templates/"+id, b.tn.AdminToken)
		require.Equal(t, http.StatusOK, get.Status)
		require.Equal(t, `"1"`, get.Header.Get("ETag"))
		patched := b.app.Patch(t, "/v1/sms/templates/"+id, b.tn.AdminToken, `"1"`, map[string]any{"body": "Pay {overdue} by {oldest_due_date}"})
		require.Equal(t, http.StatusOK, patched.Status, "%s", patched.Body)
		require.Equal(t, []any{"overdue", "oldest_due_date"}, patched.Map(t)["placeholders"])
		require.Equal(t, http.StatusPreconditionFailed, b.app.Patch(t, "/v1/sms/templates/"+id, b.tn.AdminToken, `"1"`, map[string]any{"body": "x"}).Status)
		require.Equal(t, http.StatusConflict, b.app.Patch(t, "/v1/sms/templates/"+id, b.tn.AdminToken, `"2"`, map[string]any{"name": "Ta"}).Status)
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/sms/templates/"+id, b.tn.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/sms/templates/"+id, b.tn.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Delete(t, "/v1/sms/templates/"+id, b.tn.AdminToken).Status)
	})
	t.Run("UnknownPlaceholder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/sms/templates", b.tn.AdminToken, map[string]any{"name": "Bad", "body": "Hi {name}, pay {amount} now"})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"body": "unknown_placeholder"}, fields(t, resp))
		require.Contains(t, string(resp.Body), "{amount}")
		require.Equal(t, http.StatusUnprocessableEntity, b.app.Post(t, "/v1/sms/templates", b.tn.AdminToken,
			map[string]any{"name": "Bad", "body": "Hi {name"}).Status)
		created := b.app.Post(t, "/v1/sms/templates", b.tn.AdminToken, map[string]any{"name": "Good", "body": "Hi"}).Map(t)
		resp = b.app.Patch(t, "/v1/sms/templates/"+created["id"].(string), b.tn.AdminToken, `"1"`, map[string]any{"body": "{Name}"})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "placeholders are lower case: %s", resp.Body)
	})
	t.Run("OtherTenantAndPermissions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.app.Post(t, "/v1/sms/templates", b.tn.AdminToken, map[string]any{"name": "Mine", "body": "x"}).Map(t)["id"].(string)
		other := b.app.Signup(t)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/sms/templates/"+id, other.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Patch(t, "/v1/sms/templates/"+id, other.AdminToken, `"1"`, map[string]any{"body": "y"}).Status)
		require.Equal(t, http.StatusNotFound, b.app.Delete(t, "/v1/sms/templates/"+id, other.AdminToken).Status)
		var list struct{ Items []any }
		b.app.Get(t, "/v1/sms/templates", other.AdminToken).JSON(t, &list)
		require.Empty(t, list.Items)

		manager := b.app.CreateUser(t, b.tn, auth.RoleManager, nil)
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/sms/templates/"+id, manager.Token).Status, "sms:send reads templates")
		require.Equal(t, http.StatusForbidden, b.app.Post(t, "/v1/sms/templates", manager.Token, map[string]any{"name": "M", "body": "x"}).Status,
			"writing them is settings:manage")
	})
}

func TestPreview(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.tn.AdminToken
	// Managers send notices (sms:send); these two see only the customers
	// they are in charge of.
	assigned := map[string]any{"visibility": "assigned"}
	rep := b.app.CreateUser(t, b.tn, auth.RoleManager, assigned)
	other := b.app.CreateUser(t, b.tn, auth.RoleManager, assigned)
	cust := b.app.CreateCustomer(t, admin, map[string]any{"name": "Kyoto Tea House", "currency": "JPY", "sales_rep_id": rep.ID,
		"phone": "+81 75 555 0100"})
	custID := cust["id"].(string)
	require.Equal(t, http.StatusCreated, b.app.Post(t, "/v1/items", admin, map[string]any{"sku": "TEA", "name": "Tea", "base_price": "1250"}).Status)
	order := b.app.Post(t, "/v1/sales-orders", admin, map[string]any{"customer_id": custID, "order_date": "2026-01-10",
		"lines": []any{map[string]any{"sku": "TEA", "quantity": "3", "unit_price": "1250"}}})
	require.Equal(t, http.StatusCreated, order.Status, "%s", order.Body)
	dueDate := order.Map(t)["due_date"].(string)
	require.Equal(t, http.StatusCreated, b.app.Post(t, "/v1/payments", admin, map[string]any{"customer_id": custID, "amount": "750",
		"order_id": order.Map(t)["id"]}).Status)
	require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/sms/settings", admin, `"1"`, map[string]any{"portal_url": "https://pay.example/kyoto"}).Status)
	tpl := b.app.Post(t, "/v1/sms/templates", admin, map[string]any{"name": "Notice",
		"body": "{company}: {name}, balance {balance} {currency}, overdue {overdue} since {oldest_due_date}. {portal_url}"}).Map(t)
	company := "Company " + b.tn.Slug

	t.Run("Template", func(t *testing.T) {
		t.Parallel()
		resp := b.app.Post(t, "/v1/sms/templates/preview", rep.Token, map[string]any{"template_id": tpl["id"], "customer_id": custID})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		got := resp.Map(t)
		// 3 × 1,250 JPY ordered, 750 paid: 3,000 owed, in yen's zero minor units.
		require.Equal(t, company+": Kyoto Tea House, balance 3000 JPY, overdue 3000 since "+dueDate+". https://pay.example/kyoto", got["text"])
		require.Equal(t, "GSM-7", got["encoding"])
		require.Equal(t, float64(1), got["segments"])
	})
	t.Run("BodyUCS2", func(t *testing.T) {
		t.Parallel()
		resp := b.app.Post(t, "/v1/sms/templates/preview", admin, map[string]any{
			"body": "お支払い {balance} {currency} " + strings.Repeat("ー", 60), "customer_id": custID})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		got := resp.Map(t)
		require.Equal(t, "UCS-2", got["encoding"])
		require.Equal(t, float64(2), got["segments"])
		require.True(t, strings.HasPrefix(got["text"].(string), "お支払い 3000 JPY"))
	})
	t.Run("InvisibleCustomerIs404", func(t *testing.T) {
		t.Parallel()
		resp := b.app.Post(t, "/v1/sms/templates/preview", other.Token, map[string]any{"body": "{balance}", "customer_id": custID})
		require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
		resp = b.app.Post(t, "/v1/sms/templates/preview", admin, map[string]any{"body": "{balance}", "customer_id": uuid.NewString()})
		require.Equal(t, http.StatusNotFound, resp.Status)
		otherTenant := b.app.Signup(t)
		resp = b.app.Post(t, "/v1/sms/templates/preview", otherTenant.AdminToken, map[string]any{"template_id": tpl["id"], "customer_id": custID})
		require.Equal(t, http.StatusNotFound, resp.Status)
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		resp := b.app.Post(t, "/v1/sms/templates/preview", admin, map[string]any{"body": "{amount}"})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"body": "unknown_placeholder", "customer_id": "required"}, fields(t, resp))
		resp = b.app.Post(t, "/v1/sms/templates/preview", admin, map[string]any{"body": "x", "template_id": tpl["id"], "customer_id": custID})
		require.Equal(t, map[string]string{"template_id": "exclusive"}, fields(t, resp))
		require.Equal(t, http.StatusForbidden, b.app.Post(t, "/v1/sms/templates/preview",
			b.app.CreateUser(t, b.tn, auth.RoleViewer, nil).Token, map[string]any{"body": "x", "customer_id": custID}).Status)
	})
	t.Run("PortalURLUnset", func(t *testing.T) {
		t.Parallel()
		tn := b.app.Signup(t)
		c := b.app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "No Portal"})
		resp := b.app.Post(t, "/v1/sms/templates/preview", tn.AdminToken, map[string]any{"body": "Pay at {portal_url}", "customer_id": c["id"]})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"body": "portal_url_unset"}, fields(t, resp))
		resp = b.app.Post(t, "/v1/sms/templates/preview", tn.AdminToken, map[string]any{"body": "{name} owes {balance} {currency}; oldest {oldest_due_date}.", "customer_id": c["id"]})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, "No Portal owes 0.00 USD; oldest .", resp.Map(t)["text"], "the tenant's default currency; no unpaid order")
	})
}

// TestSenderThroughStandin is the path a sender takes: the settings a user
// wrote through the API, opened by Service.Sender, a client from
// Service.TwilioClient at the configured API URL, and a message created
// on the stand-in with the tenant's sender, by auth token and by API key.
func TestSenderThroughStandin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	standin := twiliostandin.New(twiliostandin.Options{
		Accounts: []twiliostandin.Account{{SID: acct, AuthToken: token}},
		APIKeys:  []twiliostandin.APIKey{{SID: keySID, Secret: keySecret, AccountSID: acct}},
	})
	srv := httptest.NewServer(standin)
	t.Cleanup(func() { srv.Close(); standin.Close() })
	svc := b.svc(t)
	svc.Twilio = sms.ClientOptions{APIURL: srv.URL, Timeout: 5 * time.Second}

	send := func(to string) string {
		var sid string
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			snd, err := svc.Sender(ctx, tx)
			require.NoError(t, err)
			rc, err := svc.TwilioClient(snd)
			require.NoError(t, err)
			p := &openapi.CreateMessageParams{}
			p.SetTo(to).SetBody("Balance notice")
			if snd.MessagingServiceSID != "" {
				p.SetMessagingServiceSid(snd.MessagingServiceSID)
			} else {
				p.SetFrom(snd.FromNumber)
			}
			m, err := rc.Api.CreateMessage(p)
			require.NoError(t, err)
			sid = *m.Sid
			return nil
		})
		return sid
	}

	b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
		_, err := svc.Sender(ctx, tx)
		require.ErrorIs(t, err, sms.ErrNoCredentials, "nothing configured yet")
		return nil
	})
	configure(t, b, b.tn)
	first := send("+14155550101")
	resp := b.app.Patch(t, "/v1/sms/settings", b.tn.AdminToken, `"2"`, map[string]any{
		"api_key_sid": keySID, "api_key_secret": keySecret, "from_number": nil, "messaging_service_sid": msgService})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	second := send("+14155550102")

	got := standin.Messages()
	require.Len(t, got, 2)
	require.Equal(t, first, got[0].SID)
	require.Equal(t, "+14155550100", got[0].From)
	require.Equal(t, second, got[1].SID)
	require.Equal(t, msgService, got[1].MessagingServiceSID)
}
