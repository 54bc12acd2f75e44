package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/customerhub/customerhub/internal/config"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// runTwilioStandin serves the Twilio stand-in until ctx ends: a local
// Twilio for development and manual tests, never for production.
func runTwilioStandin(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("twilio-standin", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8089", "listen address")
	accountSID := fs.String("account-sid", twiliostandin.DevAccountSID, "the account SID it accepts")
	authToken := fs.String("auth-token", twiliostandin.DevAuthToken, "that account's auth token (signs status callbacks)")
	keySID := fs.String("api-key-sid", "", "an API key SID it also accepts (optional)")
	keySecret := fs.String("api-key-secret", "", "that API key's secret")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.TwilioStandinAddr != "" && !isFlagSet(fs, "addr") {
		*addr = cfg.TwilioStandinAddr
	}
	o := twiliostandin.Options{Accounts: []twiliostandin.Account{{SID: *accountSID, AuthToken: *authToken}}, Logger: logger}
	if *keySID != "" {
		o.APIKeys = []twiliostandin.APIKey{{SID: *keySID, Secret: *keySecret, AccountSID: *accountSID}}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("twilio stand-in listener: %w", err)
	}
	fmt.Fprintf(stdout, "Twilio stand-in on http://%s (account %s); point CUSTOMERHUB_TWILIO_API_URL at it\n", ln.Addr(), *accountSID)
	return serveStandin(ctx, ln, o, logger)
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// serveStandin serves the stand-in on ln until ctx ends.
func serveStandin(ctx context.Context, ln net.Listener, o twiliostandin.Options, logger *slog.Logger) error {
	s := twiliostandin.New(o)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errCh:
		s.Close()
		return fmt.Errorf("twilio stand-in: %w", err)
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(stopCtx)
	s.Close()
	logger.Info("twilio stand-in stopped")
	return err
}

// startStandin runs the stand-in beside serve, api or worker when
// CUSTOMERHUB_TWILIO_STANDIN_ADDR is set (make run sets it when no Twilio
// credentials are given), with the development account the demo tenant
// is configured with. It stops when ctx ends; the returned channel closes
// once it has.
func startStandin(ctx context.Context, cfg config.Config, logger *slog.Logger) (<-chan struct{}, error) {
	done := make(chan struct{})
	if cfg.TwilioStandinAddr == "" {
		close(done)
		return done, nil
	}
	ln, err := net.Listen("tcp", cfg.TwilioStandinAddr)
	if err != nil {
		return nil, fmt.Errorf("twilio stand-in listener (CUSTOMERHUB_TWILIO_STANDIN_ADDR): %w", err)
	}
	logger.Warn("serving the Twilio stand-in: no SMS leaves this machine (development only)", "addr", ln.Addr().String(),
		"account_sid", twiliostandin.DevAccountSID, "twilio_api_url", cfg.TwilioAPIURL)
	go func() {
		defer close(done)
		o := twiliostandin.Options{Accounts: []twiliostandin.Account{{SID: twiliostandin.DevAccountSID, AuthToken: twiliostandin.DevAuthToken}},
			Logger: logger}
		if err := serveStandin(ctx, ln, o, logger); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("twilio stand-in failed", "error", err)
		}
	}()
	return done, nil
}

// runSecrets holds the operator's secret commands: `secrets rotate`
// seals every tenant's SMS credentials again under CUSTOMERHUB_SECRET_KEY.
//
// Rotating a key: generate a new one, set it as CUSTOMERHUB_SECRET_KEY and
// the old one in CUSTOMERHUB_SECRET_KEYS_OLD (comma-separated), restart,
// run `customerhub secrets rotate`, then drop the old key and restart.
// Until the rotation has run, values sealed with the old key still open.
func runSecrets(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: customerhub secrets rotate")
	}
	box, err := sms.NewSecretBox(cfg.SecretKey, cfg.OldSecretKeys...)
	if err != nil {
		return err
	}
	if !box.CanSeal() {
		return sms.ErrNoSecretKey
	}
	pool, err := database.Open(ctx, cfg.DatabaseURL, database.PoolOptions{MaxConns: 2, ApplicationName: "customerhub-secrets"})
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := sms.NewService(box, logger)
	ids, err := dbsqlc.New().TenantIDsAll(ctx, pool)
	if err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	resealed := 0
	for _, id := range ids {
		// An operator command that must reach every tenant: each tenant
		// in its own transaction with the system scope of that tenant.
		var changed bool
		err := database.WithTenantTx(ctx, pool, database.SystemScope(id), func(ctx context.Context, tx database.Tx) error {
			var err error
			changed, err = svc.Reseal(ctx, tx)
			return err
		})
		if err != nil {
			return fmt.Errorf("tenant %s: %w (tenants before it are done; run again after fixing)", id, err)
		}
		if changed {
			resealed++
		}
	}
	fmt.Fprintf(stdout, "%d tenants checked, %d resealed under key %s\n", len(ids), resealed, sms.KeyID(cfg.SecretKey))
	return nil
}
