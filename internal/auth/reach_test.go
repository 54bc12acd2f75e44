package auth_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
)

// reachBundle is a tenant in which two user managers each have less reach
// than the tenant as a whole, and users and roles with more than either.
type reachBundle struct {
	app *apptest.App
	tn  apptest.Tenant
	// lead has a custom role with users:manage and visibility 'assigned';
	// useradmin has one with users:manage and customers:read only, and
	// visibility 'all'.
	lead, useradmin apptest.User
	// rep is a sales rep who sees repCustomer, which lead does not see;
	// leadsRep a sales rep granted leadCustomer, which lead does see (and
	// so may manage).
	rep, leadsRep apptest.User
	// viewerAll is a viewer who sees every customer (and holds a grant of
	// leadCustomer, which changes nothing for them); narrowAll holds the
	// "narrow" role (customers:read) and sees every customer; portalRep is
	// repCustomer's portal login.
	viewerAll, narrowAll, portalRep apptest.User
	leadCustomer, repCustomer       string
	// roles maps the custom roles' names to their ids: lead, useradmin,
	// wide (customers:read, write and delete), narrow (customers:read).
	roles map[string]string
	// tokens holds a session of every user above, by user id.
	tokens map[string]string
}

func newReachBundle(t *testing.T) *reachBundle {
	t.Helper()
	app := newApp(t, nil)
	tn := app.Signup(t)
	b := &reachBundle{app: app, tn: tn, roles: map[string]string{}, tokens: map[string]string{}}
	for name, perms := range map[string][]string{
		"lead":      {"users:manage", "customers:read", "customers:write", "orders:write"},
		"useradmin": {"users:manage", "customers:read"},
		"wide":      {"customers:read", "customers:write", "customers:delete"},
		"narrow":    {"customers:read"},
	} {
		resp := app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": name, "permissions": perms})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		b.roles[name] = resp.Map(t)["id"].(string)
	}
	b.lead = app.CreateUser(t, tn, "lead", map[string]any{"visibility": "assigned"})
	b.useradmin = app.CreateUser(t, tn, "useradmin", nil)
	b.rep = app.CreateUser(t, tn, "sales_rep", nil)
	b.leadsRep = app.CreateUser(t, tn, "sales_rep", nil)
	b.leadCustomer = app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Lead's customer", "sales_rep_id": b.lead.ID})["id"].(string)
	b.repCustomer = app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Rep's customer", "sales_rep_id": b.rep.ID})["id"].(string)
	b.viewerAll = app.CreateUser(t, tn, "viewer", nil)
	for _, u := range []apptest.User{b.leadsRep, b.viewerAll} {
		resp := app.Post(t, "/v1/users/"+u.ID+"/customer-grants", tn.AdminToken, map[string]any{"customer_id": b.leadCustomer})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	}
	b.narrowAll = app.CreateUser(t, tn, "narrow", nil)
	b.portalRep = app.CreateUser(t, tn, "portal", map[string]any{"customer_id": b.repCustomer})
	for _, u := range []apptest.User{b.lead, b.useradmin, b.rep, b.leadsRep, b.viewerAll, b.narrowAll, b.portalRep} {
		b.tokens[u.ID] = u.Token
	}
	b.tokens[tn.AdminID] = tn.AdminToken
	return b
}

// etag returns the user's current ETag (read by the admin).
func (b *reachBundle) etag(t *testing.T, userID string) string {
	t.Helper()
	resp := b.app.Get(t, "/v1/users/"+userID, b.tn.AdminToken)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return resp.Header.Get("ETag")
}

func (b *reachBundle) roleETag(t *testing.T, name string) string {
	t.Helper()
	return b.app.Get(t, "/v1/roles/"+b.roles[name], b.tn.AdminToken).Header.Get("ETag")
}

// snapshot is everything in the tenant that confers reach, as the admin
// sees it, and what each known session sees: users (role, visibility,
// customer link, status, version), custom roles, every user's grants, the
// tokens of the actor, and for every session its /v1/me and the customers
// it lists (a revoked session shows as its 401).
func (b *reachBundle) snapshot(t *testing.T, actorToken string) string {
	t.Helper()
	var out strings.Builder
	get := func(path, token string) string {
		resp := b.app.Get(t, path, token)
		return fmt.Sprintf("%s %d %s\n", path, resp.Status, resp.Body)
	}
	var users struct{ Items []struct{ ID string } }
	resp := b.app.Get(t, "/v1/users?limit=200", b.tn.AdminToken)
	require.Equal(t, http.StatusOK, resp.Status)
	resp.JSON(t, &users)
	out.WriteString(string(resp.Body))
	out.WriteString(get("/v1/roles", b.tn.AdminToken))
	for _, u := range users.Items {
		out.WriteString(get("/v1/users/"+u.ID+"/customer-grants?limit=200", b.tn.AdminToken))
	}
	// The actor's tokens, without last_used_at, which using them moves.
	var tokens struct {
		Items []struct{ ID, Name, Kind string }
	}
	b.app.Get(t, "/v1/tokens", actorToken).JSON(t, &tokens)
	fmt.Fprintf(&out, "tokens %v\n", tokens.Items)
	ids := make([]string, 0, len(b.tokens))
	for id := range b.tokens {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		out.WriteString(get("/v1/me", b.tokens[id]))
		var list struct{ Items []struct{ ID string } }
		resp := b.app.Get(t, "/v1/customers?limit=200&fields=id", b.tokens[id])
		if resp.Status == http.StatusOK {
			resp.JSON(t, &list)
		}
		seen := []string{strconv.Itoa(resp.Status)}
		for _, c := range list.Items {
			seen = append(seen, c.ID)
		}
		slices.Sort(seen)
		fmt.Fprintf(&out, "%s sees %v\n", id, seen)
	}
	return out.String()
}

// reachCase is one attempt to produce more reach than the actor has.
type reachCase struct {
	name string
	req  apptest.Req
	// status, field and code are the expected refusal: the problem's
	// status and the field error that names why.
	status      int
	field, code string
	// email, for a user the request would create: afterwards nobody can
	// log in with it.
	email string
}

// reachActor is a user manager with less reach than the tenant.
type reachActor struct {
	name  string
	user  apptest.User
	token string
}

// reachBuilders build, for every route that writes users, roles, tokens or
// grants, the attempts an actor could make through it to reach further
// than they do: one per field that confers reach (role or permissions,
// visibility, customer link, grants) and per kind of target (themselves, a
// user they may manage, a user who already reaches further). A new route
// of these families without a builder fails TestReachCannotGrow, so the
// test cannot silently lag behind the routes. Builders return nothing for
// an actor who cannot exceed their reach through that field (an 'all'
// actor's visibility).
var reachBuilders = map[string]func(t *testing.T, b *reachBundle, a reachActor) []reachCase{
	"POST /v1/users": func(t *testing.T, b *reachBundle, a reachActor) []reachCase {
		newUser := func(extra map[string]any) (map[string]any, string) {
			email := "new-" + uuid.NewString()[:8] + "@" + b.tn.Slug + ".example"
			body := map[string]any{"email": email, "name": "New", "password": apptest.Password}
			for k, v := range extra {
				body[k] = v
			}
			return body, email
		}
		var cases []reachCase
		add := func(name string, extra map[string]any, field, code string) {
			body, email := newUser(extra)
			cases = append(cases, reachCase{name: name, req: apptest.Req{Method: http.MethodPost, Path: "/v1/users", Body: body},
				status: http.StatusUnprocessableEntity, field: field, code: code, email: email})
		}
		add("RoleBuiltinAdmin", map[string]any{"role": "admin"}, "role", "role_too_strong")
		add("RoleCustomWide", map[string]any{"role": "wide", "visibility": "assigned"}, "role", "role_too_strong")
		if a.name == "lead" {
			add("VisibilityAll", map[string]any{"role": "narrow", "visibility": "all"}, "visibility", "visibility_too_wide")
			add("VisibilityAllBuiltin", map[string]any{"role": "sales_rep", "visibility": "all"}, "visibility", "visibility_too_wide")
			add("PortalCustomerNotSeen", map[string]any{"role": "portal", "customer_id": b.repCustomer}, "customer_id", "not_found")
			add("PortalCustomerMissing", map[string]any{"role": "portal", "customer_id": uuid.NewString()}, "customer_id", "not_found")
		}
		return cases
	},
	"PATCH /v1/users/:id": func(t *testing.T, b *reachBundle, a reachActor) []reachCase {
		var cases []reachCase
		add := func(name, userID string, body map[string]any, status int, field, code string) {
			cases = append(cases, reachCase{name: name, status: status, field: field, code: code, req: apptest.Req{
				Method: http.MethodPatch, Path: "/v1/users/" + userID, Body: body,
				Headers: map[string]string{"If-Match": b.etag(t, userID)}}})
		}
		// Themselves: nothing that confers reach, whichever way.
		add("SelfRole", a.user.ID, map[string]any{"role": "admin"}, http.StatusConflict, "role", "self")
		add("SelfRoleNarrower", a.user.ID, map[string]any{"role": "narrow"}, http.StatusConflict, "role", "self")
		add("SelfVisibility", a.user.ID, map[string]any{"visibility": otherVisibility(t, b, a)}, http.StatusConflict, "visibility", "self")
		add("SelfStatus", a.user.ID, map[string]any{"status": "disabled"}, http.StatusConflict, "status", "self")
		add("SelfCustomerLink", a.user.ID, map[string]any{"customer_id": b.leadCustomer}, http.StatusConflict, "customer_id", "self")
		// A user they may manage, given more than they have.
		managed := b.leadsRep.ID
		if a.name == "useradmin" {
			managed = b.narrowAll.ID
		}
		add("ManagedRoleAdmin", managed, map[string]any{"role": "admin"}, http.StatusUnprocessableEntity, "role", "role_too_strong")
		add("ManagedRoleWide", managed, map[string]any{"role": "wide"}, http.StatusUnprocessableEntity, "role", "role_too_strong")
		if a.name == "lead" {
			add("ManagedVisibilityAll", managed, map[string]any{"visibility": "all"}, http.StatusUnprocessableEntity, "visibility", "visibility_too_wide")
			add("ManagedPortalCustomerNotSeen", managed, map[string]any{"role": "portal", "customer_id": b.repCustomer},
				http.StatusUnprocessableEntity, "customer_id", "not_found")
			add("ManagedRoleNarrowStaysAssigned", managed, map[string]any{"role": "narrow", "visibility": "all"},
				http.StatusUnprocessableEntity, "visibility", "visibility_too_wide")
		}
		// A user who already reaches further: not even their password
		// (then log in as them) or name.
		for _, w := range widerUsers(b, a) {
			add("Wider"+w.name+"Password", w.id, map[string]any{"password": "taken over " + uuid.NewString()}, http.StatusUnprocessableEntity, w.field, w.code)
			add("Wider"+w.name+"Name", w.id, map[string]any{"name": "Renamed"}, http.StatusUnprocessableEntity, w.field, w.code)
		}
		return cases
	},
	"DELETE /v1/users/:id": func(t *testing.T, b *reachBundle, a reachActor) []reachCase {
		cases := []reachCase{{name: "Self", req: apptest.Req{Method: http.MethodDelete, Path: "/v1/users/" + a.user.ID},
			status: http.StatusConflict, field: "status", code: "self"}}
		for _, w := range widerUsers(b, a) {
			cases = append(cases, reachCase{name: "Wider" + w.name, req: apptest.Req{Method: http.MethodDelete, Path: "/v1/users/" + w.id},
				status: http.StatusUnprocessableEntity, field: w.field, code: w.code})
		}
		return cases
	},
	"POST /v1/roles": func(t *testing.T, b *reachBundle, a reachActor) []reachCase {
		return []reachCase{{name: "PermissionsBeyond", status: http.StatusUnprocessableEntity, field: "permissions", code: "role_too_strong",
			req: apptest.Req{Method: http.MethodPost, Path: "/v1/roles",
				Body: map[string]any{"name": "more-" + uuid.NewString()[:8], "permissions": []string{"customers:read", "customers:delete"}}}}}
	},
	"PATCH /v1/roles/:id": func(t *testing.T, b *reachBundle, a reachActor) []reachCase {
		patch := func(name, role string, body map[string]any, field, code string) reachCase {
			return reachCase{name: name, status: http.StatusUnprocessableEntity, field: field, code: code, req: apptest.Req{
				Method: http.MethodPatch, Path: "/v1/roles/" + b.roles[role], Body: body,
				Headers: map[string]string{"If-Match": b.roleETag(t, role)}}}
		}
		cases := []reachCase{
			patch("AddPermissionBeyond", a.name, map[string]any{"permissions": []string{"users:manage", "customers:read", "customers:delete"}},
				"permissions", "role_too_strong"),
			patch("RoleWiderThanActor", "wide", map[string]any{"permissions": []string{"customers:read"}}, "permissions", "role_too_strong"),
		}
		if a.name == "lead" {
			// "narrow" is within lead's permissions, but held by a user who
			// sees every customer: changing it changes that user.
			cases = append(cases, patch("HeldByWiderUser", "narrow", map[string]any{"permissions": []string{"customers:read", "customers:write"}},
				"visibility", "visibility_too_wide"))
		}
		return cases
	},
	"DELETE /v1/roles/:id": func(t *testing.T, b *reachBundle, a reachActor) []reachCase {
		return []reachCase{{name: "RoleWiderThanActor", status: http.StatusUnprocessableEntity, field: "permissions", code: "role_too_strong",
			req: apptest.Req{Method: http.MethodDelete, Path: "/v1/roles/" + b.roles["wide"]}}}
	},
	"POST /v1/tokens": func(t *testing.T, b *reachBundle, a reachActor) []reachCase {
		// A token carries its creator's reach and nothing else: no field
		// can name another user or more reach.
		var cases []reachCase
		for field, v := range map[string]any{"user_id": b.tn.AdminID, "role": "admin", "permissions": []string{"users:manage"},
			"visibility": "all", "customer_id": b.repCustomer, "kind": "session"} {
			cases = append(cases, reachCase{name: "Field_" + field, status: http.StatusBadRequest, field: field, code: "unknown_field",
				req: apptest.Req{Method: http.MethodPost, Path: "/v1/tokens", Body: map[string]any{"name": "more", field: v}}})
		}
		return cases
	},
	"POST /v1/users/:id/customer-grants": func(t *testing.T, b *reachBundle, a reachActor) []reachCase {
		grant := func(name, userID, customerID string, status int, field, code string) reachCase {
			return reachCase{name: name, status: status, field: field, code: code, req: apptest.Req{Method: http.MethodPost,
				Path: "/v1/users/" + userID + "/customer-grants", Body: map[string]any{"customer_id": customerID}}}
		}
		cases := []reachCase{grant("Self", a.user.ID, b.leadCustomer, http.StatusConflict, "customer_id", "self")}
		if a.name == "lead" {
			cases = append(cases, grant("CustomerNotSeen", b.leadsRep.ID, b.repCustomer, http.StatusNotFound, "customer_id", "not_found"))
		}
		for _, w := range widerUsers(b, a) {
			cases = append(cases, grant("Wider"+w.name, w.id, b.leadCustomer, http.StatusUnprocessableEntity, w.field, w.code))
		}
		return cases
	},
	"DELETE /v1/users/:id/customer-grants/:customer_id": func(t *testing.T, b *reachBundle, a reachActor) []reachCase {
		revoke := func(name, userID string, status int, field, code string) reachCase {
			return reachCase{name: name, status: status, field: field, code: code, req: apptest.Req{Method: http.MethodDelete,
				Path: "/v1/users/" + userID + "/customer-grants/" + b.leadCustomer}}
		}
		// Both hold a grant of leadCustomer, and reach further than the
		// actor.
		holder := widerUser{"ViewerAll", b.viewerAll.ID, "visibility", "visibility_too_wide"}
		if a.name == "useradmin" {
			holder = widerUser{"SalesRep", b.leadsRep.ID, "role", "role_too_strong"}
		}
		return []reachCase{
			revoke("Self", a.user.ID, http.StatusConflict, "customer_id", "self"),
			revoke("Wider"+holder.name, holder.id, http.StatusUnprocessableEntity, holder.field, holder.code),
		}
	},
}

// reachNeutralRoutes write nothing that confers reach.
var reachNeutralRoutes = map[string]string{
	"DELETE /v1/tokens/:id": "revokes one of the caller's own tokens",
	"POST /v1/auth/logout":  "revokes the caller's own token",
}

type widerUser struct {
	name, id    string
	field, code string
}

// widerUsers are existing users who reach further than the actor, with the
// field error that says why.
func widerUsers(b *reachBundle, a reachActor) []widerUser {
	if a.name == "useradmin" {
		return []widerUser{
			{"SalesRep", b.leadsRep.ID, "role", "role_too_strong"},
			{"Admin", b.tn.AdminID, "role", "role_too_strong"},
		}
	}
	return []widerUser{
		{"SalesRep", b.rep.ID, "visibility", "customers_beyond_reach"},
		{"ViewerAll", b.viewerAll.ID, "visibility", "visibility_too_wide"},
		{"Portal", b.portalRep.ID, "customer_id", "not_found"},
		{"Admin", b.tn.AdminID, "role", "role_too_strong"},
	}
}

// otherVisibility is a visibility the actor does not have.
func otherVisibility(t *testing.T, b *reachBundle, a reachActor) string {
	t.Helper()
	if a.name == "lead" {
		return "all"
	}
	return "assigned"
}

// TestReachCannotGrow is generated from the route table: through every
// route that writes users, roles, tokens or grants, for every field that
// confers reach, an actor with less reach than the tenant tries to produce
// a user, role, grant or token with more, or to change one that has more.
// Each attempt is refused with the field that says why, and afterwards
// nothing that confers reach has changed: the same users, roles, grants
// and tokens, and every session still sees exactly what it saw.
func TestReachCannotGrow(t *testing.T) {
	t.Parallel()
	b := newReachBundle(t)
	actors := []reachActor{{"lead", b.lead, b.lead.Token}, {"useradmin", b.useradmin, b.useradmin.Token}}

	covered := 0
	for _, r := range b.app.Server.Routes {
		key := r.Method + " " + r.Path
		if r.Method == http.MethodGet || !slices.Contains([]string{"users", "roles", "tokens", "grants", "auth"}, r.Tag) ||
			r.Permission == "public" {
			continue
		}
		if _, ok := reachNeutralRoutes[key]; ok {
			continue
		}
		build, ok := reachBuilders[key]
		require.True(t, ok, "route %s writes users, roles, tokens or grants but TestReachCannotGrow has no builder for it", key)
		covered++
		for _, a := range actors {
			for _, tc := range build(t, b, a) {
				t.Run(strings.ReplaceAll(key, "/", "_")+"/"+a.name+"/"+tc.name, func(t *testing.T) {
					before := b.snapshot(t, a.token)
					tc.req.Token = a.token
					resp := b.app.Do(t, tc.req)
					require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
					var p struct {
						Errors []struct{ Field, Code string }
					}
					resp.JSON(t, &p)
					require.Contains(t, p.Errors, struct{ Field, Code string }{tc.field, tc.code}, "%s", resp.Body)
					require.Equal(t, before, b.snapshot(t, a.token), "nothing that confers reach changed")
					if tc.email != "" {
						login := b.app.Post(t, "/v1/auth/login", "", map[string]any{"tenant": b.tn.Slug, "email": tc.email, "password": apptest.Password})
						require.Equal(t, http.StatusUnauthorized, login.Status, "no such user was created")
					}
				})
			}
		}
	}
	require.Len(t, reachBuilders, covered, "every builder matches a route")
}

// TestReachWithin: what stays within the actor's reach is allowed, and
// defaults never widen it.
func TestReachWithin(t *testing.T) {
	t.Parallel()
	b := newReachBundle(t)
	lead := apptest.Tenant{Slug: b.tn.Slug, AdminToken: b.lead.Token}

	t.Run("DefaultVisibilityNarrowedToActor", func(t *testing.T) {
		// A custom role's users see every customer by default, but a
		// user created by an 'assigned' manager sees what they do at most.
		u := b.app.CreateUser(t, lead, "narrow", nil)
		got := b.app.Get(t, "/v1/users/"+u.ID, b.tn.AdminToken).Map(t)
		require.Equal(t, "assigned", got["visibility"])
		require.Equal(t, "assigned", b.app.Get(t, "/v1/me", u.Token).Map(t)["user"].(map[string]any)["visibility"])
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+b.repCustomer, u.Token).Status)
		// An 'all' manager's default is the role's.
		v := b.app.CreateUser(t, apptest.Tenant{Slug: b.tn.Slug, AdminToken: b.useradmin.Token}, "narrow", nil)
		require.Equal(t, "all", b.app.Get(t, "/v1/users/"+v.ID, b.tn.AdminToken).Map(t)["visibility"])
	})
	t.Run("PortalOfSeenCustomer", func(t *testing.T) {
		u := b.app.CreateUser(t, lead, "portal", map[string]any{"customer_id": b.leadCustomer})
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customers/"+b.leadCustomer, u.Token).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+b.repCustomer, u.Token).Status)
	})
	t.Run("ManageUserWithin", func(t *testing.T) {
		resp := b.app.Patch(t, "/v1/users/"+b.leadsRep.ID, b.lead.Token, b.etag(t, b.leadsRep.ID), map[string]any{"name": "Renamed by lead"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		rep := b.app.CreateUser(t, lead, "sales_rep", nil)
		resp = b.app.Post(t, "/v1/users/"+rep.ID+"/customer-grants", b.lead.Token, map[string]any{"customer_id": b.leadCustomer})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customers/"+b.leadCustomer, rep.Token).Status)
	})
	t.Run("SelfProfile", func(t *testing.T) {
		// E-mail, name and password of one's own account stay one's own.
		resp := b.app.Patch(t, "/v1/users/"+b.lead.ID, b.lead.Token, b.etag(t, b.lead.ID), map[string]any{"name": "Lead, renamed"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	})
	t.Run("TokenCarriesCreatorsReach", func(t *testing.T) {
		resp := b.app.Post(t, "/v1/tokens", b.lead.Token, map[string]any{"name": "ci"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		token := resp.Map(t)["token"].(string)
		require.Equal(t, b.app.Get(t, "/v1/me", b.lead.Token).Body, b.app.Get(t, "/v1/me", token).Body)
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customers/"+b.leadCustomer, token).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+b.repCustomer, token).Status)
	})
	t.Run("LeavingPortalGetsRoleDefault", func(t *testing.T) {
		// What a portal user stores never applied to them: made a sales
		// rep by an admin, they get the sales rep's default.
		u := b.app.CreateUser(t, b.tn, "portal", map[string]any{"customer_id": b.leadCustomer, "visibility": "all"})
		resp := b.app.Patch(t, "/v1/users/"+u.ID, b.tn.AdminToken, b.etag(t, u.ID), map[string]any{"role": "sales_rep", "customer_id": nil})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, "assigned", resp.Map(t)["visibility"])
	})
}
