// A few calls through a typed client over the generated description
// (gen/api.d.ts, from openapi-typescript): make lint compiles this with
// tsc --noEmit, so a change to the API that breaks a TypeScript client's
// types, or a document openapi-typescript cannot type, fails the lint.
import createClient from "openapi-fetch";
import type { components, paths } from "./gen/api";

type Customer = components["schemas"]["CustomerResponse"];

export function newClient(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

export async function createAndList(baseUrl: string, token: string): Promise<Customer[]> {
  const client = newClient(baseUrl, token);
  const created = await client.POST("/v1/customers", {
    body: { name: "Acme Trading", kind: "customer", type: "company" },
    params: { header: { "Idempotency-Key": "create-acme" } },
  });
  if (created.error) {
    throw new Error(`${created.error.status} ${created.error.code}: ${created.error.detail}`);
  }
  const got = await client.GET("/v1/customers/{id}", { params: { path: { id: created.data.id } } });
  if (got.data?.status === "inactive") {
    return [];
  }
  const page = await client.GET("/v1/customers", { params: { query: { limit: 10 } } });
  return page.data?.items ?? [];
}
