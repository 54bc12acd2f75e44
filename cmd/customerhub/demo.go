package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/config"
	"github.com/customerhub/customerhub/internal/console"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/demodata"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/order"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

const (
	demoSlug     = "demo"
	demoPassword = "demo-password-123"
)

type demoUser struct {
	email, name, role string
}

var demoUsers = []demoUser{
	{"admin@demo.example", "Ada Admin", auth.RoleAdmin},
	{"manager@demo.example", "Max Manager", auth.RoleManager},
	{"rep1@demo.example", "Rita Rep", auth.RoleSalesRep},
	{"rep2@demo.example", "Sam Rep", auth.RoleSalesRep},
}

// runDemo creates the demo tenant, its users and a few customers when they
// are missing, then prints a fresh token per user. Running it again only
// prints new tokens.
func runDemo(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	customers := fs.Int("customers", 0, "generate bulk data: customers in the first tenant")
	tenants := fs.Int("tenants", 1, "with --customers: how many tenants")
	small := fs.Int("small", 10_000, "with --customers: customers in each further tenant")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := database.Open(ctx, cfg.DatabaseURL, database.PoolOptions{MaxConns: 4, ApplicationName: "customerhub-demo",
		StatementTimeout: time.Hour})
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := database.CheckCurrent(ctx, pool); err != nil {
		return err
	}
	authSvc := server.NewAuthService(cfg, pool, logger)
	if *customers > 0 {
		return runBulkDemo(ctx, pool, authSvc, demodata.Options{Tenants: max(*tenants, 1), Customers: *customers,
			SmallCustomers: *small, SlugPrefix: "bench"}, stdout)
	}
	q := dbsqlc.New()

	t, err := q.TenantGetBySlug(ctx, pool, demoSlug)
	if errors.Is(err, pgx.ErrNoRows) {
		res, err := authSvc.CreateTenant(ctx, auth.SignupInput{
			Company: "Demo Trading Co", Slug: demoSlug, Email: demoUsers[0].email, Name: demoUsers[0].name, Password: demoPassword,
		})
		if err != nil {
			return fmt.Errorf("create demo tenant: %w", err)
		}
		t = res.Tenant
	} else if err != nil {
		return err
	}
	hash, err := authSvc.Hasher().Hash(ctx, demoPassword)
	if err != nil {
		return err
	}
	admin := &tenant.Principal{TenantID: t.ID, Permissions: auth.AllPermissions, Visibility: tenant.VisibilityAll}
	tokens := map[string]string{}
	var smsNote string
	err = database.WithTenantTx(ctx, pool, database.SystemScope(t.ID), func(ctx context.Context, tx database.Tx) error {
		ids := map[string]uuid.UUID{}
		for _, du := range demoUsers {
			u, err := q.UserGetByEmail(ctx, tx, dbsqlc.UserGetByEmailParams{TenantID: t.ID, Email: du.email})
			if errors.Is(err, pgx.ErrNoRows) {
				created, err := authSvc.CreateUser(ctx, tx, admin, auth.UserInput{
					Email: du.email, Name: du.name, Password: demoPassword, PasswordHash: hash, Role: du.role,
				})
				if err != nil {
					return fmt.Errorf("create %s: %w", du.email, err)
				}
				ids[du.email] = created.ID
			} else if err != nil {
				return err
			} else {
				ids[du.email] = u.ID
			}
			if tokens[du.email], err = authSvc.IssueSession(ctx, tx, ids[du.email]); err != nil {
				return err
			}
		}
		svcs := server.NewServices(cfg, pool, logger)
		if err := seedDemoCustomers(ctx, tx, svcs, admin, ids); err != nil {
			return err
		}
		smsNote, err = configureDemoSMS(ctx, tx, cfg, svcs.SMS)
		return err
	})
	if err != nil {
		return err
	}

	base := strings.TrimRight(cfg.PublicBaseURL, "/")
	fmt.Fprintf(stdout, "\nDemo tenant %q is ready (password for every user: %s)\n\n", demoSlug, demoPassword)
	for _, du := range demoUsers {
		fmt.Fprintf(stdout, "  %-9s %-22s %s\n", du.role, du.email, tokens[du.email])
	}
	if cfg.Console {
		fmt.Fprintf(stdout, "\nWeb console: %s%s/ (company %q, any e-mail above, password %s)\n", base, console.Path, demoSlug, demoPassword)
	}
	fmt.Fprintf(stdout, "\nTry:\n")
	fmt.Fprintf(stdout, "  curl -s %s/v1/me -H 'Authorization: Bearer %s'\n", base, tokens[demoUsers[0].email])
	fmt.Fprintf(stdout, "  curl -s %s/v1/customers -H 'Authorization: Bearer %s'\n", base, tokens[demoUsers[2].email])
	fmt.Fprintf(stdout, "  curl -s -X POST %s/v1/customers -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"name\":\"Acme Ltd\",\"email\":\"buyer@acme.example\"}'\n", base, tokens[demoUsers[1].email])
	fmt.Fprintf(stdout, "  curl -s -X POST %s/v1/auth/login -H 'Content-Type: application/json' -d '{\"tenant\":\"%s\",\"email\":\"%s\",\"password\":\"%s\"}'\n", base, demoSlug, demoUsers[0].email, demoPassword)
	fmt.Fprintf(stdout, "  curl -s -X POST %s/v1/customers/bulk-update -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"selection\":{\"filter\":{\"status\":\"active\"}},\"set\":{\"billing_status\":\"current\"}}'\n", base, tokens[demoUsers[1].email])
	fmt.Fprintf(stdout, "  curl -s %s/v1/jobs -H 'Authorization: Bearer %s'\n\n", base, tokens[demoUsers[1].email])
	fmt.Fprintf(stdout, "SMS: %s\n", smsNote)
	fmt.Fprintf(stdout, "  curl -s %s/v1/sms/settings -H 'Authorization: Bearer %s'\n", base, tokens[demoUsers[0].email])
	fmt.Fprintf(stdout, "  curl -s %s/v1/sms/templates -H 'Authorization: Bearer %s'\n\n", base, tokens[demoUsers[1].email])
	if cfg.AdminPassword != "" {
		fmt.Fprintf(stdout, "Operators: River UI at %s%s/ (user %s, password from CUSTOMERHUB_ADMIN_PASSWORD)\n\n", base, server.RiverUIPath, cfg.AdminUser)
	} else {
		fmt.Fprintf(stdout, "Operators: set CUSTOMERHUB_ADMIN_PASSWORD to serve the River UI at %s%s/\n\n", base, server.RiverUIPath)
	}
	return nil
}

// demoTemplate is the demo tenant's notice template.
const demoTemplate = "{company}: Hello {name}, your balance is {balance} {currency}, of which {overdue} is overdue " +
	"(oldest due {oldest_due_date}). Reply STOP to opt out."

// configureDemoSMS points the demo tenant at Twilio when TWILIO_ACCOUNT_SID,
// TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (or TWILIO_MESSAGING_SERVICE_SID)
// are set, otherwise, when the API URL is not Twilio's own (make run serves
// the stand-in), at the stand-in's development account; and adds a notice
// template. It says what it did. Settings a user has already completed
// are left alone unless real credentials are given.
func configureDemoSMS(ctx context.Context, tx database.Tx, cfg config.Config, svc *sms.Service) (string, error) {
	cur, err := svc.Settings(ctx, tx)
	if err != nil {
		return "", err
	}
	str := func(v string) patch.Field[string] { return patch.Field[string]{Set: true, Value: &v} }
	p := sms.SettingsPatch{TimeZone: str("America/Los_Angeles")}
	var note string
	sid, token := os.Getenv("TWILIO_ACCOUNT_SID"), os.Getenv("TWILIO_AUTH_TOKEN")
	from, service := os.Getenv("TWILIO_FROM_NUMBER"), os.Getenv("TWILIO_MESSAGING_SERVICE_SID")
	switch {
	case !svc.Box().CanSeal():
		return "CUSTOMERHUB_SECRET_KEY is not set, so no Twilio credentials can be stored (make run sets a local one)", nil
	case sid != "" && token != "" && (from != "" || service != ""):
		p.AccountSID, p.AuthToken = str(sid), str(token)
		if service != "" {
			p.MessagingServiceSID, p.FromNumber = str(service), patch.Field[string]{Set: true}
		} else {
			p.FromNumber, p.MessagingServiceSID = str(from), patch.Field[string]{Set: true}
		}
		note = "the demo tenant sends through Twilio account " + sid + " at " + cfg.TwilioAPIURL
	case cur.Configured():
		note = "the demo tenant's SMS settings are already configured; left as they are"
		p = sms.SettingsPatch{}
	case cfg.TwilioAPIURL != sms.DefaultTwilioAPIURL:
		p.AccountSID, p.AuthToken, p.FromNumber = str(twiliostandin.DevAccountSID), str(twiliostandin.DevAuthToken), str(twiliostandin.DevFromNumber)
		note = "no Twilio credentials given: the demo tenant sends to the Twilio stand-in at " + cfg.TwilioAPIURL + " (nothing leaves this machine)"
	default:
		return "no Twilio credentials given (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER) and no stand-in: SMS is not configured", nil
	}
	if p != (sms.SettingsPatch{}) {
		if err := p.Validate(); err != nil {
			return "", fmt.Errorf("demo SMS settings: %w", err)
		}
		if _, err := svc.UpdateSettings(ctx, tx, precondition.Any(), p); err != nil {
			return "", fmt.Errorf("demo SMS settings: %w", err)
		}
	}
	templates, err := svc.TemplateList(ctx, tx, nil, 1)
	if err != nil {
		return "", err
	}
	if len(templates) == 0 {
		if _, err := svc.TemplateCreate(ctx, tx, sms.TemplateInput{Name: "Balance reminder", Body: demoTemplate}); err != nil {
			return "", fmt.Errorf("demo SMS template: %w", err)
		}
	}
	return note, nil
}

// seedDemoCustomers creates the demo's payment terms, items, group,
// customers and a few orders and payments, once.
func seedDemoCustomers(ctx context.Context, tx database.Tx, svcs *server.Services, admin *tenant.Principal, ids map[string]uuid.UUID) error {
	exists, err := dbsqlc.New().CustomerExists(ctx, tx, tx.TenantID())
	if err != nil || exists {
		return err
	}
	svc := svcs.Customers
	env, err := svc.Env(ctx, tx)
	if err != nil {
		return err
	}
	seed := []struct{ name, email, phone, rep string }{
		{"Acme Industrial Supply", "orders@acme.example", "+1 415 555 0101", "rep1@demo.example"},
		{"Blue Harbor Foods", "ap@blueharbor.example", "+1 206 555 0144", "rep1@demo.example"},
		{"Cedar & Pine Furniture", "hello@cedarpine.example", "+1 503 555 0190", "rep2@demo.example"},
		{"Delta Office Partners", "billing@deltaoffice.example", "+1 312 555 0117", "rep2@demo.example"},
		{"Evergreen Clinics", "finance@evergreen.example", "+1 617 555 0162", ""},
	}
	q := dbsqlc.New()
	for _, it := range []struct{ sku, name, price string }{{"PAPER-A4", "Copy paper A4, box", "24.90"}, {"TONER-K", "Toner, black", "79.00"}} {
		if _, err := q.ItemInsert(ctx, tx, dbsqlc.ItemInsertParams{TenantID: tx.TenantID(), ID: uuid.New(), Sku: it.sku, Name: it.name,
			BasePrice: decimal.RequireFromString(it.price)}); err != nil {
			return fmt.Errorf("seed item %s: %w", it.sku, err)
		}
	}
	var created []uuid.UUID
	for _, s := range seed {
		name, email, phone := s.name, s.email, s.phone
		p := customer.Patch{Name: patch.Field[string]{Set: true, Value: &name}, Email: patch.Field[string]{Set: true, Value: &email},
			Phone: patch.Field[string]{Set: true, Value: &phone}}
		if s.rep != "" {
			rep := ids[s.rep]
			p.SalesRepID = patch.Field[uuid.UUID]{Set: true, Value: &rep}
		}
		d, err := svc.Create(ctx, tx, admin, env, p)
		if err != nil {
			return fmt.Errorf("seed customer %s: %w", s.name, err)
		}
		created = append(created, d.Customer.ID)
	}
	// Some history, so balances, figures and ledgers show something.
	qty := func(v string) money.Value { return money.Value{Decimal: decimal.RequireFromString(v)} }
	for i, id := range created[:4] {
		o, err := svcs.Orders.Create(ctx, tx, admin, order.Input{CustomerID: id, Lines: []order.LineInput{
			{SKU: "PAPER-A4", Quantity: qty(fmt.Sprint(2 + i*3))}, {SKU: "TONER-K", Quantity: qty("1")}}})
		if err != nil {
			return fmt.Errorf("seed order: %w", err)
		}
		if i%2 == 0 {
			if _, err := svcs.Orders.CreatePayment(ctx, tx, admin, order.PaymentInput{CustomerID: id, OrderID: &o.ID,
				Amount: money.Value{Decimal: o.Total.Div(decimal.NewFromInt(2)).Round(2)}}); err != nil {
				return fmt.Errorf("seed payment: %w", err)
			}
		}
	}
	return nil
}

// runBulkDemo generates bench-000 ... tenants and prints a token for the
// first tenant's admin and one of its reps.
func runBulkDemo(ctx context.Context, pool *pgxpool.Pool, authSvc *auth.Service, o demodata.Options, stdout io.Writer) error {
	hash, err := authSvc.Hasher().Hash(ctx, demoPassword)
	if err != nil {
		return err
	}
	o.PasswordHash = hash
	start := time.Now()
	tenants, err := demodata.Generate(ctx, pool, o, stdout)
	if err != nil {
		return err
	}
	total := 0
	for _, t := range tenants {
		total += t.Customers
	}
	fmt.Fprintf(stdout, "%d tenants, %d customers ready in %s (password for every user: %s)\n", len(tenants), total,
		time.Since(start).Round(time.Second), demoPassword)
	first := tenants[0]
	return database.WithTenantTx(ctx, pool, database.SystemScope(first.ID), func(ctx context.Context, tx database.Tx) error {
		admin, err := authSvc.IssueSession(ctx, tx, first.AdminID)
		if err != nil {
			return err
		}
		rep, err := authSvc.IssueSession(ctx, tx, first.RepIDs[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s admin token: %s\ntenant %s sales rep token: %s\n", first.Slug, admin, first.Slug, rep)
		return nil
	})
}
