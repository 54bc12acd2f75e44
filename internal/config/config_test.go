package config_test

import (
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/config"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(lookup(nil))
		require.NoError(t, err)
		require.Equal(t, ":8080", c.ListenAddr)
		require.Equal(t, "127.0.0.1:9091", c.MetricsAddr, "metrics only on loopback by default")
		require.Equal(t, "", c.RedisURL)
		require.True(t, c.SignupEnabled)
		require.Equal(t, 30*24*time.Hour, c.SessionTTL)
		require.Equal(t, 1<<20, c.BodyLimit)
		require.Equal(t, 24*time.Hour, c.IdempotencyTTL)
		require.Equal(t, 10, c.SignupPerIPHour)
		require.Equal(t, 100_000, c.ExportSyncMax)
		require.Equal(t, 7*24*time.Hour, c.ExportRetention)
		require.Contains(t, c.DatabaseURL, "customerhub_app@")
		require.Equal(t, int64(50_000_000), c.ImportMaxBytes, "CUSTOMERHUB_IMPORT_MAX_BYTES: 50 MB")
		require.Equal(t, 30*24*time.Hour, c.ImportRetention, "CUSTOMERHUB_IMPORT_RETENTION: 30 days")
		require.Equal(t, 2000, c.ImportBatch)
	})
	t.Run("Overrides", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(lookup(map[string]string{
			"CUSTOMERHUB_LISTEN_ADDR": "127.0.0.1:9000", "CUSTOMERHUB_METRICS_ADDR": "10.1.2.3:9100", "REDIS_URL": "redis://cache:6379/2",
			"CUSTOMERHUB_SIGNUP_ENABLED": "false", "CUSTOMERHUB_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
			"CUSTOMERHUB_LOG_LEVEL": "debug", "CUSTOMERHUB_IDEMPOTENCY_TTL": "48h",
			"CUSTOMERHUB_EXPORT_SYNC_MAX": "0", "CUSTOMERHUB_EXPORT_RETENTION": "72h",
			"CUSTOMERHUB_IMPORT_MAX_BYTES": "1048576", "CUSTOMERHUB_IMPORT_RETENTION": "168h",
		}))
		require.NoError(t, err)
		require.Equal(t, 0, c.ExportSyncMax, "0: every export is a job")
		require.Equal(t, 72*time.Hour, c.ExportRetention)
		require.Equal(t, int64(1<<20), c.ImportMaxBytes)
		require.Equal(t, 7*24*time.Hour, c.ImportRetention)
		require.Equal(t, 48*time.Hour, c.IdempotencyTTL)
		require.Equal(t, "127.0.0.1:9000", c.ListenAddr)
		require.Equal(t, "10.1.2.3:9100", c.MetricsAddr)
		require.False(t, c.SignupEnabled)
		require.Equal(t, []string{"10.0.0.0/8", "192.168.1.1"}, c.TrustedProxies)
		require.Equal(t, slog.LevelDebug, c.LogLevel)
	})
	t.Run("EveryBadVariableNamed", func(t *testing.T) {
		t.Parallel()
		bad := map[string]string{
			"DATABASE_URL":                   "mysql://x/y",
			"REDIS_URL":                      "not a url",
			"CUSTOMERHUB_LISTEN_ADDR":        "8080",
			"CUSTOMERHUB_METRICS_ADDR":       "metrics",
			"CUSTOMERHUB_SIGNUP_ENABLED":     "perhaps",
			"CUSTOMERHUB_SESSION_TTL":        "forever",
			"CUSTOMERHUB_BODY_LIMIT":         "-1",
			"CUSTOMERHUB_TRUSTED_PROXIES":    "10.0.0.0/99",
			"CUSTOMERHUB_LOG_LEVEL":          "loud",
			"CUSTOMERHUB_LOG_FORMAT":         "xml",
			"CUSTOMERHUB_RATE_LIMIT_TENANT":  "0",
			"CUSTOMERHUB_SIGNUP_PER_IP_HOUR": "0",
			"CUSTOMERHUB_IDEMPOTENCY_TTL":    "1s",
			"CUSTOMERHUB_EXPORT_SYNC_MAX":    "-1",
			"CUSTOMERHUB_EXPORT_RETENTION":   "1s",
			"CUSTOMERHUB_IMPORT_MAX_BYTES":   "10",
			"CUSTOMERHUB_IMPORT_RETENTION":   "soon",
		}
		_, err := config.Load(lookup(bad))
		require.Error(t, err)
		for name := range bad {
			require.Contains(t, err.Error(), name+":", "error names %s", name)
		}
		require.Len(t, strings.Split(err.Error(), "\n"), len(bad))
	})
	t.Run("MetricsApartFromThePublicPort", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ listen, metrics string }{
			{":8080", "127.0.0.1:8080"},
			{"127.0.0.1:9091", ":9091"},
			{"0.0.0.0:9000", "0.0.0.0:9000"},
		} {
			_, err := config.Load(lookup(map[string]string{"CUSTOMERHUB_LISTEN_ADDR": tc.listen, "CUSTOMERHUB_METRICS_ADDR": tc.metrics}))
			require.ErrorContains(t, err, "CUSTOMERHUB_METRICS_ADDR:", "%+v", tc)
		}
		for _, tc := range []struct{ listen, metrics string }{
			{"10.0.0.1:8080", "127.0.0.1:8080"},
			{":8080", "127.0.0.1:0"},
		} {
			_, err := config.Load(lookup(map[string]string{"CUSTOMERHUB_LISTEN_ADDR": tc.listen, "CUSTOMERHUB_METRICS_ADDR": tc.metrics}))
			require.NoError(t, err, "%+v", tc)
		}
	})
	t.Run("SecretKeys", func(t *testing.T) {
		t.Parallel()
		key := strings.Repeat("k", 32)
		old1, old2 := strings.Repeat("o", 32), strings.Repeat("p", 32)
		c, err := config.Load(lookup(map[string]string{
			"CUSTOMERHUB_SECRET_KEY":      base64.StdEncoding.EncodeToString([]byte(key)),
			"CUSTOMERHUB_SECRET_KEYS_OLD": base64.RawURLEncoding.EncodeToString([]byte(old1)) + ", " + base64.StdEncoding.EncodeToString([]byte(old2)),
		}))
		require.NoError(t, err)
		require.Equal(t, []byte(key), c.SecretKey)
		require.Equal(t, [][]byte{[]byte(old1), []byte(old2)}, c.OldSecretKeys)
		logged := c.LogValue().String()
		require.NotContains(t, logged, base64.StdEncoding.EncodeToString([]byte(key)))
		require.NotContains(t, logged, key)
		require.Contains(t, logged, "secret_key=true")

		c, err = config.Load(lookup(nil))
		require.NoError(t, err)
		require.Nil(t, c.SecretKey, "optional: only storing SMS credentials needs it")
		require.Equal(t, "https://api.twilio.com", c.TwilioAPIURL)
		require.Equal(t, "", c.TwilioStandinAddr)

		_, err = config.Load(lookup(map[string]string{
			"CUSTOMERHUB_SECRET_KEY":      base64.StdEncoding.EncodeToString([]byte("too short")),
			"CUSTOMERHUB_SECRET_KEYS_OLD": "not base64!, " + base64.StdEncoding.EncodeToString([]byte(old1)),
			"CUSTOMERHUB_TWILIO_API_URL":  "ftp://twilio",
		}))
		require.ErrorContains(t, err, "CUSTOMERHUB_SECRET_KEY: must be base64 of 32 bytes, got 9 bytes")
		require.ErrorContains(t, err, "CUSTOMERHUB_SECRET_KEYS_OLD: key 1:")
		require.ErrorContains(t, err, "CUSTOMERHUB_TWILIO_API_URL:")
		require.NotContains(t, err.Error(), "too short")
	})
	t.Run("SecretsMasked", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(lookup(map[string]string{"DATABASE_URL": "postgres://app:s3cret@db:5432/x", "REDIS_URL": "redis://:hunter2@cache:6379/0"}))
		require.NoError(t, err)
		logged := c.LogValue().String()
		require.NotContains(t, logged, "s3cret")
		require.NotContains(t, logged, "hunter2")
	})
}
