// Small building blocks every screen shares: loading and problem states,
// labelled form fields, and a data hook that turns an API call into
// {data, error, loading} with a reload.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { m } from "./messages";
import { navigate, setQuery } from "./router";

export type Loaded<T> = {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
};

/** Runs load whenever deps change; the latest call wins. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (err: unknown) => mine === seq.current && setState({ error: asApiError(err), loading: false }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) {
    return err;
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new ApiError(0, { type: "about:blank", title: detail, status: 0, detail, code: "network" });
}

/** What a failed request means for the user, from its status and problem. */
export function ProblemView({ error, onReload }: { error: ApiError; onReload?: () => void }) {
  let text: string;
  switch (error.status) {
    case 403:
      text = m.problem.forbidden;
      break;
    case 404:
      text = m.problem.notFound;
      break;
    case 412:
      text = m.problem.conflict;
      break;
    case 429:
      text = m.problem.rateLimited;
      break;
    case 503:
      text = m.problem.unavailable;
      break;
    default:
      text = error.problem.detail || error.problem.title || m.problem.generic(error.status);
  }
  return (
    <div class="problem" role="alert" data-status={error.status} data-code={error.problem.code}>
      <p>{text}</p>
      {error.status !== 403 && error.status !== 404 && error.status !== 412 && error.problem.errors?.length ? (
        <ul>
          {error.problem.errors.map((e) => (
            <li key={e.field}>
              <strong>{m.field[e.field] ?? e.field}</strong>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      {error.problem.request_id ? <p class="muted small">{m.problem.requestId(error.problem.request_id)}</p> : null}
      {onReload ? (
        <button type="button" onClick={onReload}>
          {error.status === 412 ? m.problem.reloadLatest : m.common.refresh}
        </button>
      ) : null}
    </div>
  );
}

export function Loading() {
  return (
    <p class="loading" role="status" aria-live="polite">
      {m.app.loading}
    </p>
  );
}

/** Shows children once loaded, the problem if the load failed. */
export function Show<T>({ state, children }: { state: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (state.error) {
    return <ProblemView error={state.error} onReload={state.reload} />;
  }
  if (state.data === undefined) {
    return <Loading />;
  }
  return <>{children(state.data)}</>;
}

let nextId = 0;
function useId(prefix: string): string {
  const ref = useRef<string>();
  if (!ref.current) {
    ref.current = `${prefix}-${++nextId}`;
  }
  return ref.current;
}

type FieldProps = {
  label: string;
  error?: string | undefined;
  hint?: string;
  children: (id: string, describedBy: string | undefined) => ComponentChildren;
};

/** A label, the control and the field's error, wired for screen readers. */
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId("f");
  const describedBy = error ? `${id}-err` : hint ? `${id}-hint` : undefined;
  return (
    <div class={error ? "field invalid" : "field"}>
      <label for={id}>{label}</label>
      {children(id, describedBy)}
      {hint && !error ? (
        <span id={`${id}-hint`} class="hint">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={`${id}-err`} class="error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

export function TextInput(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  error?: string | undefined;
  hint?: string;
  type?: string;
  name?: string;
  required?: boolean;
  autoComplete?: string;
}) {
  return (
    <Field label={props.label} error={props.error} {...(props.hint ? { hint: props.hint } : {})}>
      {(id, describedBy) => (
        <input
          id={id}
          name={props.name}
          type={props.type ?? "text"}
          value={props.value}
          required={props.required}
          autoComplete={props.autoComplete}
          aria-invalid={props.error ? true : undefined}
          aria-describedby={describedBy}
          onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
}

export function Select(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: [string, string][];
  error?: string | undefined;
  name?: string;
}) {
  return (
    <Field label={props.label} error={props.error}>
      {(id, describedBy) => (
        <select
          id={id}
          name={props.name}
          value={props.value}
          aria-describedby={describedBy}
          onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
        >
          {props.options.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function Checkbox(props: { label: string; checked: boolean; onChange: (v: boolean) => void; name?: string }) {
  const id = useId("c");
  return (
    <div class="check">
      <input
        id={id}
        name={props.name}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label for={id}>{props.label}</label>
    </div>
  );
}

/** A link inside the console that navigates without reloading the page. */
export function Link(props: { href: string; children: ComponentChildren; class?: string } & JSX.HTMLAttributes<HTMLAnchorElement>) {
  const { href, children, ...rest } = props;
  return (
    <a
      {...rest}
      href={`/app${href}`}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
          return;
        }
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

/**
 * Cursor paging kept in the address (cursor=): the next page's cursor comes
 * from the answer, and the cursors of the pages before this one are kept
 * here so Previous can go back; update() changes the list's parameters and
 * starts again at the first page.
 */
export function useCursorPaging(path: string, query: URLSearchParams) {
  const [cursors, setCursors] = useState<string[]>([]);
  const go = (cursor: string | undefined) => {
    const next = new URLSearchParams(query);
    if (cursor) next.set("cursor", cursor);
    else next.delete("cursor");
    setQuery(path, next);
  };
  return {
    /** How many pages come before this one. */
    depth: cursors.length,
    reset: () => setCursors([]),
    /** Sets query parameters (an empty value removes one) and starts again at the first page. */
    update: (changes: Record<string, string>) => {
      const next = new URLSearchParams(query);
      for (const [k, v] of Object.entries(changes)) {
        if (v === "") next.delete(k);
        else next.set(k, v);
      }
      next.delete("cursor");
      setCursors([]);
      setQuery(path, next);
    },
    previous: () => {
      const prev = cursors.slice(0, -1);
      setCursors(prev);
      go(prev[prev.length - 1]);
    },
    next: (cursor: string) => {
      setCursors([...cursors, cursor]);
      go(cursor);
    },
  };
}

/** Previous and Next buttons over a useCursorPaging. */
export function CursorPager({ paging, next }: { paging: ReturnType<typeof useCursorPaging>; next: string | null | undefined }) {
  return (
    <Pager hasPrevious={paging.depth > 0} next={next} onPrevious={paging.previous}
      onNext={() => {
        if (next) paging.next(next);
      }} />
  );
}

export function Pager(props: { hasPrevious: boolean; next: string | null | undefined; onPrevious: () => void; onNext: () => void }) {
  return (
    <nav class="pager" aria-label={m.common.pages}>
      <button type="button" disabled={!props.hasPrevious} onClick={props.onPrevious}>
        {m.common.previous}
      </button>
      <button type="button" disabled={!props.next} onClick={props.onNext}>
        {m.common.next}
      </button>
    </nav>
  );
}

/** Formats a value of the API for a table cell. */
export function show(value: unknown): string {
  if (value === null || value === undefined || value === "") {
    return m.common.none;
  }
  if (typeof value === "boolean") {
    return value ? m.common.yes : m.common.no;
  }
  if (typeof value === "string") {
    if (/^\d{4}-\d{2}-\d{2}T/.test(value)) {
      return new Date(value).toLocaleString();
    }
    return m.value[value] ?? value;
  }
  if (typeof value === "object") {
    return JSON.stringify(value);
  }
  return String(value);
}
