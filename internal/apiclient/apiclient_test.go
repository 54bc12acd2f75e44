package apiclient_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apiclient"
	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestGeneratedClient makes real calls through the generated client
// against a running server: what a client writer gets from the OpenAPI
// description must talk to the API as it is (paths, bodies, enums, the
// problem+json errors).
func TestGeneratedClient(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	base := app.Listen(t)
	ctx := context.Background()

	anon, err := apiclient.NewClientWithResponses(base)
	require.NoError(t, err)
	slug := fmt.Sprintf("apiclient-%d", time.Now().UnixNano())
	signup, err := anon.PostV1SignupWithResponse(ctx, apiclient.AuthSignupRequest{
		Company: "Acme Trading", Slug: &slug, Email: "admin@apiclient.example", Name: "Admin", Password: apptest.Password,
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, signup.StatusCode(), string(signup.Body))
	require.NotNil(t, signup.JSON201)
	token := signup.JSON201.Token

	c, err := apiclient.NewClientWithResponses(base, apiclient.WithRequestEditorFn(
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	require.NoError(t, err)

	name, kind := "Harbour Supplies", apiclient.CustomerRequestKindVendor
	key := "create-harbour"
	created, err := c.PostV1CustomersWithResponse(ctx, &apiclient.PostV1CustomersParams{IdempotencyKey: &key},
		apiclient.CustomerRequest{Name: &name, Kind: &kind})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	cust := created.JSON201
	require.NotNil(t, cust)
	require.Equal(t, name, cust.Name)
	require.Equal(t, apiclient.CustomerResponseKindVendor, cust.Kind)
	require.Equal(t, apiclient.CustomerResponseStatusActive, cust.Status)

	got, err := c.GetV1CustomersIdWithResponse(ctx, cust.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode(), string(got.Body))
	require.Equal(t, cust.Id, got.JSON200.Id)
	require.Equal(t, cust.Code, got.JSON200.Code)

	limit := 10
	list, err := c.GetV1CustomersWithResponse(ctx, &apiclient.GetV1CustomersParams{Limit: &limit})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, list.StatusCode(), string(list.Body))
	require.Len(t, list.JSON200.Items, 1)
	require.Equal(t, cust.Id, list.JSON200.Items[0].Id)
	require.Nil(t, list.JSON200.NextCursor)

	// An error comes back as the Problem the description promises.
	bad := "not-a-kind"
	refused, err := c.PostV1CustomersWithResponse(ctx, nil,
		apiclient.CustomerRequest{Name: &name, Kind: (*apiclient.CustomerRequestKind)(&bad)})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, refused.StatusCode(), string(refused.Body))
	require.NotNil(t, refused.ApplicationproblemJSON400)
	require.NotNil(t, refused.ApplicationproblemJSON400.Errors)
	require.Equal(t, "kind", (*refused.ApplicationproblemJSON400.Errors)[0].Field)
}
