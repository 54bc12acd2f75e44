package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// childEnv makes the test binary act as `customerhub worker` instead of
// running tests, so that tests can start (and kill) real worker processes.
const childEnv = "CUSTOMERHUB_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "worker" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, []string{"worker"}, os.Stdout, nil)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	dbtest.Main(m)
}

// syncBuffer collects a child's output from its copying goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestWorkerKilledMidJob runs a bulk update of 20,000 customers on worker
// processes: the first is killed with SIGKILL in the middle, the second
// is stopped gracefully (SIGTERM) in the middle, the third finishes. Every
// selected customer ends changed exactly once, with one audit event each.
func TestWorkerKilledMidJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Fresh(t)
	env := map[string]string{
		"CUSTOMERHUB_BULK_BATCH":          "250",
		"CUSTOMERHUB_JOB_ATTEMPT_TIMEOUT": "3s",
		"CUSTOMERHUB_RESCUE_STUCK_AFTER":  "3s",
		// No Twilio here: a short call bound keeps the rescue at 5 s.
		"CUSTOMERHUB_TWILIO_TIMEOUT": "1s",
	}
	app := apptest.New(t, db, env)
	tn := app.Signup(t)
	tid := uuid.MustParse(tn.ID)

	const selected, others = 20000, 100
	err := database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, type)
			SELECT $1, gen_random_uuid(), 'K' || lpad(g::text, 6, '0'), 'Killed ' || g,
			       CASE WHEN g <= $2::int THEN 'individual' ELSE 'company' END
			FROM generate_series(1, $2::int + $3::int) AS g`, tid, selected, others)
		return err
	})
	require.NoError(t, err)

	resp := app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
		"selection": map[string]any{"filter": map[string]any{"type": "individual"}},
		"set":       map[string]any{"billing_status": "collections", "status": "dormant"},
	})
	jobID := apptest.JobID(t, resp)

	var logs syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker logs:\n%s", logs.String())
		}
	})
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=worker", "DATABASE_URL="+db.AppURL, "MIGRATE_DATABASE_URL="+db.OwnerURL,
			"REDIS_URL=", "CUSTOMERHUB_METRICS_ADDR=127.0.0.1:0", "CUSTOMERHUB_LOG_LEVEL=warn", "CUSTOMERHUB_LOG_FORMAT=text", "CUSTOMERHUB_SHUTDOWN_TIMEOUT=20s")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdout, cmd.Stderr = &logs, &logs
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})
		return cmd
	}
	job := func() map[string]any {
		r := app.Get(t, "/v1/jobs/"+jobID, tn.AdminToken)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return r.Map(t)
	}
	processed := func() int {
		return int(job()["progress"].(map[string]any)["processed"].(float64))
	}
	// waitFor waits until the job has processed at least n customers and
	// is still running.
	waitFor := func(n int) int {
		var got int
		require.Eventually(t, func() bool {
			got = processed()
			return got >= n
		}, 3*time.Minute, 20*time.Millisecond, "job stuck below %d", n)
		require.Less(t, got, selected, "the job finished before the worker could be stopped")
		return got
	}

	w1 := start()
	atKill := waitFor(2000)
	require.NoError(t, w1.Process.Kill())
	_ = w1.Wait()
	require.Equal(t, "running", job()["state"], "a killed worker's job stays running until rescued")

	w2 := start()
	atStop := waitFor(atKill + 2000)
	require.NoError(t, w2.Process.Signal(syscall.SIGTERM))
	require.NoError(t, w2.Wait(), "graceful stop; logs:\n%s", logs.String())
	require.Less(t, atStop, selected)

	w3 := start()
	end := app.WaitJob(t, tn.AdminToken, jobID)
	require.NoError(t, w3.Process.Signal(syscall.SIGTERM))
	require.NoError(t, w3.Wait())

	require.Equal(t, "succeeded", end["state"], "%v\n%s", end, logs.String())
	require.Equal(t, map[string]any{"processed": float64(selected), "total": float64(selected)}, end["progress"])
	require.Equal(t, map[string]any{"matched": float64(selected), "changed": float64(selected), "unchanged": float64(0), "skipped": float64(0)},
		end["result"], "a batch applied twice would show up as unchanged rows")
	require.Contains(t, fmt.Sprint(end["errors"]), "stopped", "the rescue is reported")

	err = database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		var changed, untouched, events, distinct int
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE billing_status = 'collections' AND status = 'dormant' AND version = 2),
			count(*) FILTER (WHERE billing_status IS NULL AND status = 'active' AND version = 1)
			FROM customers WHERE tenant_id = $1`, tid).Scan(&changed, &untouched))
		require.Equal(t, selected, changed)
		require.Equal(t, others, untouched)
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*), count(DISTINCT entity_id) FROM audit_events
			WHERE tenant_id = $1 AND request_id = $2`, tid, "job:"+jobID).Scan(&events, &distinct))
		require.Equal(t, selected, events)
		require.Equal(t, selected, distinct)
		return nil
	})
	require.NoError(t, err)
}
