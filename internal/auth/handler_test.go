package auth_test

import (
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func newApp(t *testing.T, env map[string]string) *apptest.App {
	t.Helper()
	return apptest.New(t, dbtest.Shared(t), env)
}

func problemCode(t *testing.T, r *apptest.Response) string {
	t.Helper()
	code, _ := r.Map(t)["code"].(string)
	return code
}

func TestSignup(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil)

	t.Run("Success", func(t *testing.T) {
		t.Parallel()
		tn := app.Signup(t)
		me := app.Get(t, "/v1/me", tn.AdminToken)
		require.Equal(t, http.StatusOK, me.Status, "%s", me.Body)
		var body struct {
			User struct {
				ID, Role, Visibility string
			}
			Tenant      struct{ ID, Slug string }
			Permissions []string
		}
		me.JSON(t, &body)
		require.Equal(t, tn.AdminID, body.User.ID)
		require.Equal(t, "admin", body.User.Role)
		require.Equal(t, "all", body.User.Visibility)
		require.Equal(t, tn.Slug, body.Tenant.Slug)
		require.Contains(t, body.Permissions, "users:manage")
	})
	t.Run("SlugTaken", func(t *testing.T) {
		t.Parallel()
		tn := app.Signup(t)
		resp := app.Post(t, "/v1/signup", "", map[string]any{"company": "Copycat", "slug": tn.Slug, "email": "x@y.example", "name": "X", "password": apptest.Password})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "slug_taken", problemCode(t, resp))
	})
	t.Run("SlugDerivedFromCompany", func(t *testing.T) {
		t.Parallel()
		body := map[string]any{"company": "Müller & Söhne GmbH", "email": "a@b.example", "name": "A", "password": apptest.Password}
		first := app.Post(t, "/v1/signup", "", body)
		require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
		second := app.Post(t, "/v1/signup", "", body)
		require.Equal(t, http.StatusCreated, second.Status, "a derived slug that is taken gets a suffix")
		s1 := first.Map(t)["tenant"].(map[string]any)["slug"].(string)
		s2 := second.Map(t)["tenant"].(map[string]any)["slug"].(string)
		require.Regexp(t, `^m-ller-s-hne-gmbh`, s1)
		require.NotEqual(t, s1, s2)
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		resp := app.Post(t, "/v1/signup", "", map[string]any{"company": "", "slug": "-Bad Slug-", "email": "nope", "name": "", "password": "short"})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		var p struct{ Errors []struct{ Field string } }
		resp.JSON(t, &p)
		var fields []string
		for _, e := range p.Errors {
			fields = append(fields, e.Field)
		}
		require.ElementsMatch(t, []string{"company", "slug", "email", "name", "password"}, fields)
	})
	t.Run("PerIPLimit", func(t *testing.T) {
		t.Parallel()
		limited := newApp(t, map[string]string{"CUSTOMERHUB_SIGNUP_PER_IP_HOUR": "3", "CUSTOMERHUB_TRUSTED_PROXIES": "0.0.0.0"})
		ip := testIP()
		signup := func(ip string, body map[string]any) *apptest.Response {
			return limited.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/signup", Body: body,
				Headers: map[string]string{"X-Forwarded-For": ip}})
		}
		valid := func() map[string]any {
			return map[string]any{"company": "Signup Limit " + uuid.NewString()[:8], "email": "a@b.example", "name": "A", "password": apptest.Password}
		}
		// An invalid request costs nothing and is not counted.
		require.Equal(t, http.StatusBadRequest, signup(ip, map[string]any{"company": "X"}).Status)
		for i := 0; i < 3; i++ {
			resp := signup(ip, valid())
			require.Equal(t, http.StatusCreated, resp.Status, "signup %d: %s", i+1, resp.Body)
		}
		resp := signup(ip, valid())
		require.Equal(t, http.StatusTooManyRequests, resp.Status)
		require.Equal(t, "rate_limited", problemCode(t, resp))
		retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.NoError(t, err)
		require.InDelta(t, 20*60, retry, 60, "a third of an hour until the next of 3 an hour")
		require.Equal(t, http.StatusCreated, signup(testIP(), valid()).Status, "other addresses are unaffected")
	})
	t.Run("Disabled", func(t *testing.T) {
		t.Parallel()
		closed := newApp(t, map[string]string{"CUSTOMERHUB_SIGNUP_ENABLED": "false"})
		resp := closed.Post(t, "/v1/signup", "", map[string]any{"company": "X", "email": "a@b.example", "name": "A", "password": apptest.Password})
		require.Equal(t, http.StatusForbidden, resp.Status)
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()

	t.Run("SuccessAndLogout", func(t *testing.T) {
		t.Parallel()
		app := newApp(t, nil)
		tn := app.Signup(t)
		token := app.Login(t, tn.Slug, tn.AdminEmail)
		require.Equal(t, http.StatusOK, app.Get(t, "/v1/me", token).Status)
		require.Equal(t, http.StatusNoContent, app.Post(t, "/v1/auth/logout", token, nil).Status)
		resp := app.Get(t, "/v1/me", token)
		require.Equal(t, http.StatusUnauthorized, resp.Status, "a revoked token is refused")
		// Other sessions of the user are unaffected.
		require.Equal(t, http.StatusOK, app.Get(t, "/v1/me", tn.AdminToken).Status)
	})
	t.Run("WrongPasswordUnknownUserUnknownTenant", func(t *testing.T) {
		t.Parallel()
		app := newApp(t, nil)
		tn := app.Signup(t)
		for _, body := range []map[string]any{
			{"tenant": tn.Slug, "email": tn.AdminEmail, "password": "wrong password"},
			{"tenant": tn.Slug, "email": "nobody@x.example", "password": apptest.Password},
			{"tenant": "no-such-tenant", "email": tn.AdminEmail, "password": apptest.Password},
		} {
			resp := app.Post(t, "/v1/auth/login", "", body)
			require.Equal(t, http.StatusUnauthorized, resp.Status)
			require.Equal(t, "invalid_credentials", problemCode(t, resp), "the same answer whatever was wrong")
		}
	})
	// The two lockout tests run one after the other: expireLocks clears
	// every lock of the package's database.
	t.Run("AccountLockout", func(t *testing.T) {
		// Redis points nowhere: the lockout lives in PostgreSQL, so it
		// holds during a Redis outage.
		app := newApp(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0", "CUSTOMERHUB_LOGIN_MAX_FAILURES": "3"})
		tn := app.Signup(t)
		bad := map[string]any{"tenant": tn.Slug, "email": tn.AdminEmail, "password": "wrong password"}
		for i := 0; i < 3; i++ {
			require.Equal(t, http.StatusUnauthorized, app.Post(t, "/v1/auth/login", "", bad).Status, "attempt %d", i+1)
		}
		resp := app.Post(t, "/v1/auth/login", "", map[string]any{"tenant": tn.Slug, "email": tn.AdminEmail, "password": apptest.Password})
		require.Equal(t, http.StatusTooManyRequests, resp.Status, "locked: even the right password is refused")
		retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.NoError(t, err)
		require.InDelta(t, 30, retry, 2)

		// Lift the lock as time would, and the right password works and
		// resets the count.
		expireLocks(t, app)
		app.Login(t, tn.Slug, tn.AdminEmail)
		require.Equal(t, http.StatusUnauthorized, app.Post(t, "/v1/auth/login", "", bad).Status)
	})
	t.Run("IPLockout", func(t *testing.T) {
		// app.Test connects from 0.0.0.0; trusting it as a proxy lets the
		// test speak for other client addresses through X-Forwarded-For.
		app := newApp(t, map[string]string{"CUSTOMERHUB_LOGIN_IP_MAX_FAILURES": "4", "CUSTOMERHUB_TRUSTED_PROXIES": "0.0.0.0"})
		tn := app.Signup(t)
		login := func(email, password, ip string) int {
			return app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/auth/login",
				Body:    map[string]any{"tenant": tn.Slug, "email": email, "password": password},
				Headers: map[string]string{"X-Forwarded-For": ip}}).Status
		}
		// Failures spread over many accounts from one IP.
		for i := 0; i < 4; i++ {
			require.Equal(t, http.StatusUnauthorized, login("guess"+strconv.Itoa(i)+"@x.example", "x", "198.51.100.7"))
		}
		require.Equal(t, http.StatusTooManyRequests, login(tn.AdminEmail, apptest.Password, "198.51.100.7"))
		require.Equal(t, http.StatusOK, login(tn.AdminEmail, apptest.Password, "198.51.100.8"), "other addresses are unaffected")
		expireLocks(t, app)
	})
	// A burst sent all at once gets no more password checks than attempts
	// sent one by one: each attempt is counted before its hash.
	t.Run("ConcurrentBurstAccount", func(t *testing.T) {
		app := newApp(t, map[string]string{"CUSTOMERHUB_LOGIN_MAX_FAILURES": "5", "CUSTOMERHUB_TRUSTED_PROXIES": "0.0.0.0"})
		tn := app.Signup(t)
		ip := testIP()
		reqs := make([]apptest.Req, 25)
		for i := range reqs {
			reqs[i] = loginReq(tn.Slug, tn.AdminEmail, "wrong password "+strconv.Itoa(i), ip)
		}
		statuses := countStatuses(app.DoAll(t, reqs))
		require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 20}, statuses,
			"only the limit's worth of attempts are checked")

		resp := app.Do(t, loginReq(tn.Slug, tn.AdminEmail, apptest.Password, ip))
		require.Equal(t, http.StatusTooManyRequests, resp.Status, "locked: the right password is refused too")
		retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.NoError(t, err)
		require.InDelta(t, 30, retry, 2)
		resp = app.Do(t, loginReq(tn.Slug, tn.AdminEmail, apptest.Password, testIP()))
		require.Equal(t, http.StatusTooManyRequests, resp.Status, "the account is locked, whatever the address")
	})
	t.Run("ConcurrentBurstIP", func(t *testing.T) {
		app := newApp(t, map[string]string{"CUSTOMERHUB_LOGIN_IP_MAX_FAILURES": "5", "CUSTOMERHUB_TRUSTED_PROXIES": "0.0.0.0"})
		tn := app.Signup(t)
		ip := testIP()
		reqs := make([]apptest.Req, 25)
		for i := range reqs {
			reqs[i] = loginReq(tn.Slug, "guess"+strconv.Itoa(i)+"@x.example", "wrong password", ip)
		}
		statuses := countStatuses(app.DoAll(t, reqs))
		require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 20}, statuses)
		require.Equal(t, http.StatusTooManyRequests, app.Do(t, loginReq(tn.Slug, tn.AdminEmail, apptest.Password, ip)).Status)
		require.Equal(t, http.StatusOK, app.Do(t, loginReq(tn.Slug, tn.AdminEmail, apptest.Password, testIP())).Status,
			"the account itself is not locked by another address's failures")
	})
	t.Run("SuccessesDoNotCountAgainstIP", func(t *testing.T) {
		// Many people behind one address: the IP limit counts failures only.
		app := newApp(t, map[string]string{"CUSTOMERHUB_LOGIN_IP_MAX_FAILURES": "3", "CUSTOMERHUB_TRUSTED_PROXIES": "0.0.0.0"})
		tn := app.Signup(t)
		ip := testIP()
		for i := 0; i < 6; i++ {
			require.Equal(t, http.StatusOK, app.Do(t, loginReq(tn.Slug, tn.AdminEmail, apptest.Password, ip)).Status, "login %d", i+1)
		}
		require.Equal(t, http.StatusUnauthorized, app.Do(t, loginReq(tn.Slug, tn.AdminEmail, "wrong password", ip)).Status)
		require.Equal(t, http.StatusOK, app.Do(t, loginReq(tn.Slug, tn.AdminEmail, apptest.Password, ip)).Status)
	})
}

// loginReq is a login from the client address ip (the app must trust
// 0.0.0.0 as a proxy).
func loginReq(slug, email, password, ip string) apptest.Req {
	return apptest.Req{Method: http.MethodPost, Path: "/v1/auth/login",
		Body:    map[string]any{"tenant": slug, "email": email, "password": password},
		Headers: map[string]string{"X-Forwarded-For": ip}}
}

// testIP returns a client address of the documentation range no other test
// (or earlier run, whose counts Redis may still hold) uses.
func testIP() string {
	ip := net.ParseIP("2001:db8::")
	_, _ = rand.Read(ip[8:])
	return ip.String()
}

func countStatuses(resps []*apptest.Response) map[int]int {
	out := map[int]int{}
	for _, r := range resps {
		out[r.Status]++
	}
	return out
}

// expireLocks moves every login lock into the past (as the clock would).
// It runs as the table owner: the application role may not rewrite locks
// wholesale in normal operation any more than it needs to.
func expireLocks(t *testing.T, app *apptest.App) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), app.DB.OwnerURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), `UPDATE auth_throttle SET locked_until = now() - interval '1 second', failures = 0 WHERE locked_until IS NOT NULL`)
	require.NoError(t, err)
}

func TestTokens(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil)
	tn := app.Signup(t)

	resp := app.Post(t, "/v1/tokens", tn.AdminToken, map[string]any{"name": "ci", "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	created := resp.Map(t)
	token := created["token"].(string)
	require.Regexp(t, `^chub_[A-Za-z0-9_-]{64}$`, token)
	require.Equal(t, http.StatusOK, app.Get(t, "/v1/me", token).Status)

	list := app.Get(t, "/v1/tokens", tn.AdminToken)
	require.NotContains(t, string(list.Body), token, "secrets are shown once")
	require.Len(t, list.Map(t)["items"], 1)

	t.Run("ExpiryInPastRefused", func(t *testing.T) {
		resp := app.Post(t, "/v1/tokens", tn.AdminToken, map[string]any{"name": "old", "expires_at": "2001-01-01T00:00:00Z"})
		require.Equal(t, http.StatusBadRequest, resp.Status)
	})
	t.Run("Expired", func(t *testing.T) {
		resp := app.Post(t, "/v1/tokens", tn.AdminToken, map[string]any{"name": "soon", "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		soon := resp.Map(t)
		// Move the expiry into the past, inside the tenant's own scope
		// (row-level security applies to every role here).
		err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)),
			func(ctx context.Context, tx database.Tx) error {
				tag, err := tx.Exec(ctx, `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, soon["id"])
				require.EqualValues(t, 1, tag.RowsAffected())
				return err
			})
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, app.Get(t, "/v1/me", soon["token"].(string)).Status)
	})
	t.Run("TamperedToken", func(t *testing.T) {
		b := []byte(token)
		b[len(b)-1] ^= 1
		require.Equal(t, http.StatusUnauthorized, app.Get(t, "/v1/me", string(b)).Status)
	})
	t.Run("Revoke", func(t *testing.T) {
		require.Equal(t, http.StatusNoContent, app.Delete(t, "/v1/tokens/"+created["id"].(string), tn.AdminToken).Status)
		require.Equal(t, http.StatusUnauthorized, app.Get(t, "/v1/me", token).Status)
		require.Equal(t, http.StatusNotFound, app.Delete(t, "/v1/tokens/"+created["id"].(string), tn.AdminToken).Status)
	})
	t.Run("OtherUsersTokenIs404", func(t *testing.T) {
		other := app.CreateUser(t, tn, "viewer", nil)
		mine := app.Post(t, "/v1/tokens", tn.AdminToken, map[string]any{"name": "mine"}).Map(t)
		require.Equal(t, http.StatusNotFound, app.Delete(t, "/v1/tokens/"+mine["id"].(string), other.Token).Status)
	})
}

func TestUsers(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil)
	tn := app.Signup(t)

	t.Run("CreateListGet", func(t *testing.T) {
		rep := app.CreateUser(t, tn, "sales_rep", nil)
		got := app.Get(t, "/v1/users/"+rep.ID, tn.AdminToken)
		require.Equal(t, http.StatusOK, got.Status)
		require.Equal(t, `"1"`, got.Header.Get("ETag"))
		u := got.Map(t)
		require.Equal(t, "sales_rep", u["role"])
		require.Equal(t, "assigned", u["visibility"], "sales reps default to their own customers")
		require.NotContains(t, string(got.Body), "password")

		var page struct {
			Items      []map[string]any
			NextCursor *string `json:"next_cursor"`
		}
		app.Get(t, "/v1/users?limit=1", tn.AdminToken).JSON(t, &page)
		require.Len(t, page.Items, 1)
		require.NotNil(t, page.NextCursor)
	})
	t.Run("DuplicateEmail", func(t *testing.T) {
		resp := app.Post(t, "/v1/users", tn.AdminToken, map[string]any{"email": tn.AdminEmail, "name": "Dup", "password": apptest.Password, "role": "viewer"})
		require.Equal(t, http.StatusConflict, resp.Status)
	})
	t.Run("UnknownRole", func(t *testing.T) {
		resp := app.Post(t, "/v1/users", tn.AdminToken, map[string]any{"email": "r@x.example", "name": "R", "password": apptest.Password, "role": "wizard"})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"role"`)
	})
	t.Run("NonAdminCannotManage", func(t *testing.T) {
		manager := app.CreateUser(t, tn, "manager", nil)
		require.Equal(t, http.StatusForbidden, app.Get(t, "/v1/users", manager.Token).Status)
	})
	t.Run("PatchRevokesOnRoleChange", func(t *testing.T) {
		u := app.CreateUser(t, tn, "viewer", nil)
		path := "/v1/users/" + u.ID
		resp := app.Patch(t, path, tn.AdminToken, `"1"`, map[string]any{"role": "manager", "name": "Promoted"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, "manager", resp.Map(t)["role"])
		require.Equal(t, http.StatusUnauthorized, app.Get(t, "/v1/me", u.Token).Status, "tokens issued under the old role are revoked")
		require.Equal(t, http.StatusPreconditionFailed, app.Patch(t, path, tn.AdminToken, `"1"`, map[string]any{"name": "Stale"}).Status)
	})
	t.Run("DisableRevokesAndBlocksLogin", func(t *testing.T) {
		u := app.CreateUser(t, tn, "viewer", nil)
		require.Equal(t, http.StatusNoContent, app.Delete(t, "/v1/users/"+u.ID, tn.AdminToken).Status)
		require.Equal(t, http.StatusUnauthorized, app.Get(t, "/v1/me", u.Token).Status)
		resp := app.Post(t, "/v1/auth/login", "", map[string]any{"tenant": tn.Slug, "email": u.Email, "password": apptest.Password})
		require.Equal(t, http.StatusUnauthorized, resp.Status)
		require.Equal(t, "disabled", app.Get(t, "/v1/users/"+u.ID, tn.AdminToken).Map(t)["status"])
	})
	t.Run("LastAdminProtected", func(t *testing.T) {
		solo := app.Signup(t)
		second := app.CreateUser(t, solo, "admin", nil)
		// The first admin may demote the second, but not themself: nobody
		// changes their own role or status.
		resp := app.Patch(t, "/v1/users/"+second.ID, solo.AdminToken, `"1"`, map[string]any{"role": "viewer"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		resp = app.Patch(t, "/v1/users/"+solo.AdminID, solo.AdminToken, `"1"`, map[string]any{"role": "viewer"})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "self", problemCode(t, resp))
		require.Equal(t, http.StatusConflict, app.Delete(t, "/v1/users/"+solo.AdminID, solo.AdminToken).Status)
		// A custom role with every permission may manage admins, but not
		// take away the last one.
		require.Equal(t, http.StatusCreated, app.Post(t, "/v1/roles", solo.AdminToken, map[string]any{"name": "owner", "permissions": auth.AllPermissions}).Status)
		owner := app.CreateUser(t, solo, "owner", nil)
		resp = app.Patch(t, "/v1/users/"+solo.AdminID, owner.Token, `"1"`, map[string]any{"role": "viewer"})
		require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
		require.Equal(t, "last_admin", problemCode(t, resp))
		resp = app.Delete(t, "/v1/users/"+solo.AdminID, owner.Token)
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "last_admin", problemCode(t, resp))
	})
	t.Run("NoEscalation", func(t *testing.T) {
		role := app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": "hr", "permissions": []string{"users:manage", "customers:read"}})
		require.Equal(t, http.StatusCreated, role.Status, "%s", role.Body)
		hr := app.CreateUser(t, tn, "hr", nil)
		resp := app.Post(t, "/v1/users", hr.Token, map[string]any{"email": "boss@x.example", "name": "Boss", "password": apptest.Password, "role": "admin"})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
		require.Contains(t, string(resp.Body), "role_too_strong")
		resp = app.Patch(t, "/v1/users/"+hr.ID, hr.Token, `"1"`, map[string]any{"role": "admin"})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "self", problemCode(t, resp))
		resp = app.Post(t, "/v1/roles", hr.Token, map[string]any{"name": "god", "permissions": []string{"settings:manage"}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
		// Roles within one's own permissions are fine.
		app.CreateUser(t, apptest.Tenant{Slug: tn.Slug, AdminToken: hr.Token}, "hr", nil)
	})
	t.Run("PortalNeedsCustomer", func(t *testing.T) {
		resp := app.Post(t, "/v1/users", tn.AdminToken, map[string]any{"email": "p@x.example", "name": "P", "password": apptest.Password, "role": "portal"})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"customer_id"`)
	})
}

func TestRoles(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil)
	tn := app.Signup(t)

	resp := app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": "clerk", "permissions": []string{"customers:read", "customers:write", "customers:read"}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	role := resp.Map(t)
	require.Equal(t, []any{"customers:read", "customers:write"}, role["permissions"])

	clerk := app.CreateUser(t, tn, "clerk", nil)
	require.Equal(t, http.StatusCreated, app.Post(t, "/v1/customers", clerk.Token, map[string]any{"name": "By clerk"}).Status)
	require.Equal(t, http.StatusForbidden, app.Get(t, "/v1/users", clerk.Token).Status)

	t.Run("List", func(t *testing.T) {
		var list struct {
			Items []struct {
				Name    string
				Builtin bool
			}
		}
		app.Get(t, "/v1/roles", tn.AdminToken).JSON(t, &list)
		require.Len(t, list.Items, 7)
		require.True(t, list.Items[0].Builtin)
		require.Equal(t, "clerk", list.Items[6].Name)
	})
	t.Run("PermissionChangeApplies", func(t *testing.T) {
		path := "/v1/roles/" + role["id"].(string)
		body := map[string]any{"permissions": []string{"customers:read"}}
		require.Equal(t, http.StatusPreconditionRequired, app.Do(t, apptest.Req{Method: http.MethodPatch, Path: path, Token: tn.AdminToken, Body: body}).Status)
		got := app.Get(t, path, tn.AdminToken)
		require.Equal(t, `"1"`, got.Header.Get("ETag"))
		require.EqualValues(t, 1, got.Map(t)["version"])
		require.Equal(t, http.StatusPreconditionFailed, app.Patch(t, path, tn.AdminToken, `"7"`, body).Status)
		resp := app.Patch(t, path, tn.AdminToken, `"1"`, body)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		require.EqualValues(t, 2, resp.Map(t)["version"])
		require.Equal(t, http.StatusForbidden, app.Post(t, "/v1/customers", clerk.Token, map[string]any{"name": "Again"}).Status)
	})
	t.Run("InvalidInput", func(t *testing.T) {
		resp := app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": "admin", "permissions": []string{"customers:fly"}})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"name"`)
		require.Contains(t, string(resp.Body), `"field":"permissions.0"`)
		require.Equal(t, http.StatusConflict, app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": "clerk", "permissions": []string{}}).Status)
	})
	t.Run("DeleteInUse", func(t *testing.T) {
		path := "/v1/roles/" + role["id"].(string)
		require.Equal(t, http.StatusConflict, app.Delete(t, path, tn.AdminToken).Status)
		require.Equal(t, http.StatusNoContent, app.Delete(t, "/v1/users/"+clerk.ID, tn.AdminToken).Status)
		// A disabled user still holds the role.
		require.Equal(t, http.StatusConflict, app.Delete(t, path, tn.AdminToken).Status)
		unused := app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": "unused", "permissions": []string{}}).Map(t)
		require.Equal(t, http.StatusNoContent, app.Delete(t, "/v1/roles/"+unused["id"].(string), tn.AdminToken).Status)
	})
}

// TestPermissionsList: GET /v1/permissions lists every permission a role
// can hold, customers:assign included, which admins and managers hold and
// reps do not; the API description names it where it applies.
func TestPermissionsList(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil)
	tn := app.Signup(t)
	var list struct{ Items []string }
	app.Get(t, "/v1/permissions", tn.AdminToken).JSON(t, &list)
	require.Equal(t, []string{"customers:read", "customers:write", "customers:delete", "customers:import", "customers:export",
		"customers:merge", "customers:assign", "groups:write", "orders:write", "credit:override", "sms:send", "reports:read",
		"users:manage", "settings:manage"}, list.Items)
	for role, holds := range map[string]bool{"manager": true, "sales_rep": false, "viewer": false} {
		u := app.CreateUser(t, tn, role, nil)
		var me struct{ Permissions []string }
		app.Get(t, "/v1/me", u.Token).JSON(t, &me)
		require.Equal(t, holds, slices.Contains(me.Permissions, "customers:assign"), role)
	}
	var me struct{ Permissions []string }
	app.Get(t, "/v1/me", tn.AdminToken).JSON(t, &me)
	require.Contains(t, me.Permissions, "customers:assign")
	require.Contains(t, string(app.Get(t, "/v1/openapi.json", "").Body), "customers:assign")
}
