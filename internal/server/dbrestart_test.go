package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// TestBackendsTerminatedUnderLoad ends every database connection of the
// running application again and again (pg_terminate_backend, as a restart
// of PostgreSQL does) while clients create and read customers: no request
// answers 500, every failure is a 503 problem with Retry-After, and every
// create that was acknowledged exists afterwards.
func TestBackendsTerminatedUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Fresh(t) // its own database: only its connections are ended
	app := apptest.New(t, db, nil)
	tn := app.Signup(t)
	seedPath := "/v1/customers/" + app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Seed"})["id"].(string)
	base := app.Listen(t)
	admin, err := pgx.Connect(ctx, dbtest.AdminURL())
	require.NoError(t, err)
	defer admin.Close(ctx)

	const workers, rounds, requestsPerRound = 4, 15, 8
	progress := make(chan struct{}) // a request finished
	stop := make(chan struct{})
	var mu sync.Mutex
	var created []uuid.UUID
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				method, path, body := http.MethodGet, "/v1/customers?limit=5", ""
				switch i % 3 {
				case 0:
					method, path, body = http.MethodPost, "/v1/customers", fmt.Sprintf(`{"name":"Load %d-%d"}`, w, i)
				case 1:
					path = seedPath
				}
				req, err := http.NewRequest(method, base+path, strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Authorization", "Bearer "+tn.AdminToken)
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("%s %s: %v", method, path, err)
					continue
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var out struct {
					ID   uuid.UUID `json:"id"`
					Code string    `json:"code"`
				}
				_ = json.Unmarshal(raw, &out)
				switch resp.StatusCode {
				case http.StatusOK:
				case http.StatusCreated:
					mu.Lock()
					created = append(created, out.ID)
					mu.Unlock()
				case http.StatusServiceUnavailable:
					if resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != httpapi.ContentTypeProblem || out.Code != "unavailable" {
						t.Errorf("%s %s: 503 without Retry-After or problem: %v %s", method, path, resp.Header, raw)
					}
				default:
					t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
				}
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		}()
	}

	for range rounds {
		for range requestsPerRound {
			<-progress
		}
		_, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = $1 AND application_name = 'customerhub-test' AND pid <> pg_backend_pid()`, db.Name)
		require.NoError(t, err)
	}
	close(stop)
	wg.Wait()

	t.Logf("statuses: %v", statuses)
	require.NotZero(t, statuses[http.StatusServiceUnavailable], "no request met a terminated connection: the test proved nothing")
	require.NotEmpty(t, created)
	// The last round may have ended connections the pool still holds idle:
	// a request that meets one answers 503 and the pool drops it, so the
	// service is serving again within a few requests.
	serving := false
	for range 20 {
		if app.Get(t, "/v1/customers", tn.AdminToken).Status == http.StatusOK {
			serving = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.True(t, serving, "serving again after the connections were ended")
	var found int
	require.Eventually(t, func() bool {
		err := database.WithTenantTx(ctx, db.App, database.SystemScope(uuid.MustParse(tn.ID)), func(ctx context.Context, tx database.Tx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM customers WHERE tenant_id = $1 AND id = ANY($2)`, tn.ID, created).Scan(&found)
		}, database.ReadOnly)
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "the count of acknowledged creates could not be read")
	require.Equal(t, len(created), found, "every acknowledged create exists")
}
