package main

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestWorkerKilledMidImport imports a 10,000-row file on a worker process
// killed with SIGKILL in the middle; a second process resumes at the
// first unfinished batch. In the end the tenant has exactly the file's
// customers, none twice, each with one audit event naming the import,
// and the import counts every row created once.
func TestWorkerKilledMidImport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Fresh(t)
	env := map[string]string{
		"CUSTOMERHUB_IMPORT_BATCH":        "250",
		"CUSTOMERHUB_JOB_ATTEMPT_TIMEOUT": "3s",
		"CUSTOMERHUB_RESCUE_STUCK_AFTER":  "3s",
		// No Twilio here: a short call bound keeps the rescue at 5 s.
		"CUSTOMERHUB_TWILIO_TIMEOUT": "1s",
	}
	app := apptest.New(t, db, env)
	tn := app.Signup(t)
	tid := uuid.MustParse(tn.ID)

	const rows = 10000
	var file bytes.Buffer
	file.WriteString("code,name,email\r\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&file, "K%06d,Killed %d,k%d@example.com\r\n", i, i, i)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("mode", "upsert"))
	fw, err := mw.CreateFormFile("file", "big.csv")
	require.NoError(t, err)
	_, err = fw.Write(file.Bytes())
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	resp := app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/imports", Token: tn.AdminToken, Body: body.Bytes(),
		Headers: map[string]string{"Content-Type": mw.FormDataContentType()}})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	acc := resp.Map(t)
	importID := acc["import"].(map[string]any)["id"].(string)
	jobID := acc["job"].(map[string]any)["id"].(string)

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
	processed := func() int {
		r := app.Get(t, "/v1/jobs/"+jobID, tn.AdminToken)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return int(r.Map(t)["progress"].(map[string]any)["processed"].(float64))
	}

	w1 := start()
	var atKill int
	require.Eventually(t, func() bool {
		atKill = processed()
		return atKill >= 2000
	}, 3*time.Minute, 20*time.Millisecond, "import stuck")
	require.NoError(t, w1.Process.Kill())
	_ = w1.Wait()
	require.Less(t, atKill, rows, "the import finished before the worker could be killed")

	w2 := start()
	end := app.WaitJob(t, tn.AdminToken, jobID)
	require.NoError(t, w2.Process.Signal(syscall.SIGTERM))
	require.NoError(t, w2.Wait())
	require.Equal(t, "succeeded", end["state"], "%v\n%s", end, logs.String())

	imp := app.Get(t, "/v1/imports/"+importID, tn.AdminToken).Map(t)
	require.Equal(t, "succeeded", imp["state"])
	require.Equal(t, map[string]any{"total": float64(rows), "created": float64(rows), "updated": float64(0),
		"unchanged": float64(0), "failed": float64(0)}, imp["counts"], "a batch applied twice would show up as unchanged or failed rows")

	err = database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		var n, distinct, events, evDistinct int
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*), count(DISTINCT code) FROM customers WHERE tenant_id = $1`, tid).Scan(&n, &distinct))
		require.Equal(t, rows, n)
		require.Equal(t, rows, distinct)
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*), count(DISTINCT entity_id) FROM audit_events
			WHERE tenant_id = $1 AND request_id = $2`, tid, "import:"+importID).Scan(&events, &evDistinct))
		require.Equal(t, rows, events)
		require.Equal(t, rows, evDistinct)
		return nil
	})
	require.NoError(t, err)
}
