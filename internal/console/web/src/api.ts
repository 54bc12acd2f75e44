// The console's only way to the server: the public /v1 API through
// openapi-fetch, typed by gen/api.d.ts (openapi-typescript over the
// binary's own OpenAPI description), so a contract change breaks this
// build rather than its users. The session token lives in sessionStorage
// (this tab only, gone when it closes) and travels as a bearer header,
// never as a cookie.
import createClient from "openapi-fetch";
import type { components, paths } from "../gen/api";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type Customer = Schemas["CustomerResponse"];
export type Me = Schemas["AuthMeResponse"];
export type Job = Schemas["JobsView"];

const TOKEN_KEY = "customerhub.token";

let token: string | null = sessionStorage.getItem(TOKEN_KEY);
const signedOut = new Set<() => void>();

export function setToken(value: string | null): void {
  token = value;
  if (value) {
    sessionStorage.setItem(TOKEN_KEY, value);
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

export function hasToken(): boolean {
  return token !== null;
}

/** Calls fn when the server says the session is over (401). */
export function onSignedOut(fn: () => void): () => void {
  signedOut.add(fn);
  return () => signedOut.delete(fn);
}

export const api = createClient<paths>({ baseUrl: window.location.origin });

api.use({
  onRequest({ request }) {
    if (token) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && token) {
      setToken(null);
      signedOut.forEach((fn) => fn());
    }
    return response;
  },
});

/** An answer of the API that is not a success, as its problem+json says. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title);
  }

  /** The message for one request field, when the problem names it. */
  field(name: string): string | undefined {
    return this.problem.errors?.find((e) => e.field === name)?.message;
  }
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/**
 * Returns the data of a successful call and throws ApiError otherwise.
 * A body that is not problem+json (a proxy's page, say) still becomes a
 * problem with the status, so screens always have something to show.
 */
export async function must<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) {
    return data as T;
  }
  throw toApiError(response, error);
}

/** Like must, with the response too (for its ETag). */
export async function mustResponse<T>(call: Promise<Result<T>>): Promise<{ data: T; response: Response }> {
  const { data, error, response } = await call;
  if (response.ok) {
    return { data: data as T, response };
  }
  throw toApiError(response, error);
}

export function toApiError(response: Response, error: unknown): ApiError {
  const p = error as Partial<Problem> | undefined;
  if (p && typeof p === "object" && typeof p.code === "string") {
    return new ApiError(response.status, p as Problem);
  }
  return new ApiError(response.status, {
    type: "about:blank",
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: typeof error === "string" ? error : "",
    code: `http_${response.status}`,
  });
}

/**
 * fetch for the few calls openapi-fetch does not fit: multipart uploads,
 * binary downloads and the job event stream. Same bearer token, same
 * sign-out on 401; the path must be one of the API's own.
 */
export async function rawFetch(path: `/v1/${string}`, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) {
    headers.set("Authorization", `Bearer ${token}`);
  }
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401 && token) {
    setToken(null);
    signedOut.forEach((fn) => fn());
  }
  if (!response.ok) {
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    throw toApiError(response, body);
  }
  return response;
}

/** Saves a finished response's body under the name the server gave it. */
export async function saveResponse(response: Response, fallbackName: string): Promise<void> {
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Downloads an API file (a template, an errors file, a job's result). */
export async function download(path: `/v1/${string}`, fallbackName: string): Promise<void> {
  await saveResponse(await rawFetch(path), fallbackName);
}

export type SalesRep = Schemas["AuthSalesRepResponse"];

/**
 * The tenant's active staff, who can be a customer's or location's sales
 * rep (GET /v1/sales-reps, every page). A portal user sees none.
 */
export async function salesReps(me: Me): Promise<SalesRep[]> {
  if (me.user.visibility === "portal") {
    return [];
  }
  const out: SalesRep[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const res = await must(api.GET("/v1/sales-reps", { params: { query: cursor ? { limit: 200, cursor } : { limit: 200 } } }));
    out.push(...res.items);
    if (!res.next_cursor) break;
    cursor = res.next_cursor;
  }
  return out;
}
