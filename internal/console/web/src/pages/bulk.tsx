// Bulk update (seed 002), opened from the customer list with its filters
// in the address: the user picks what to set (sales rep, payment terms,
// billing status, basis date), counts the customers it would change with
// a dry run, and only then confirms; the job's progress follows. Any
// change to the form after counting asks for a new count.
import { useState } from "preact/hooks";
import { api, must, salesReps, type ApiError, type Job, type SalesRep, type Schemas } from "../api";
import { m } from "../messages";
import { Link, ProblemView, Select, Show, TextInput, asApiError, show, useLoad } from "../ui";
import { mayAssignReps, useSession } from "../session";
import { JobStatus } from "./jobs";

/** What a bulk dry run answers (its 200, beside the started job's 202). */
export type BulkPreview = Schemas["JobsPreview"];

/** The list filters a selection takes (the list's query minus paging, sort and view). */
export function selectionFilter(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  query.forEach((v, k) => {
    if (v !== "" && !["sort", "count", "cursor", "view", "columns", "fields"].includes(k)) out[k] = v;
  });
  return out;
}

type Refs = { terms: Schemas["PricingPaymentTermsResponse"][]; users: SalesRep[] };

const FIELDS = ["sales_rep_id", "payment_terms_id", "billing_status", "basis_date"] as const;
type BulkField = (typeof FIELDS)[number];

export function BulkUpdate({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const canUsers = mayAssignReps(session);
  const refs = useLoad(async (): Promise<Refs> => {
    const [terms, users] = await Promise.all([
      must(api.GET("/v1/payment-terms", { params: { query: { limit: 200 } } })),
      canUsers ? salesReps(session) : Promise.resolve([]),
    ]);
    return { terms: terms.items, users };
  }, []);
  const filter = selectionFilter(query);
  return (
    <section aria-labelledby="bulk-title">
      <p><Link href={`/customers?${query}`}>← {m.nav.customers}</Link></p>
      <h1 id="bulk-title">{m.bulk.title}</h1>
      <p>{m.bulk.intro}</p>
      <FilterSummary filter={filter} />
      <Show state={refs}>{(r) => <BulkForm filter={filter} refs={r} canUsers={canUsers} />}</Show>
    </section>
  );
}

function FilterSummary({ filter }: { filter: Record<string, string> }) {
  const entries = Object.entries(filter);
  return (
    <div>
      <h2>{m.bulk.selection}</h2>
      {entries.length ? (
        <ul class="chips" data-testid="bulk-filter">
          {entries.map(([k, v]) => <li key={k}>{m.field[k] ?? m.bulk.filterNames[k] ?? k}: {show(v)}</li>)}
        </ul>
      ) : (
        <p data-testid="bulk-filter">{m.bulk.everyone}</p>
      )}
    </div>
  );
}

function BulkForm({ filter, refs, canUsers }: { filter: Record<string, string>; refs: Refs; canUsers: boolean }) {
  const [on, setOn] = useState<Record<BulkField, boolean>>({ sales_rep_id: false, payment_terms_id: false, billing_status: false, basis_date: false });
  const [values, setValues] = useState<Record<BulkField, string>>({ sales_rep_id: "", payment_terms_id: "", billing_status: "current", basis_date: "" });
  const [preview, setPreview] = useState<BulkPreview>();
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const fields = FIELDS.filter((f) => f !== "sales_rep_id" || canUsers);
  function change(f: BulkField, patch: { on?: boolean; value?: string }) {
    if (patch.on !== undefined) setOn((o) => ({ ...o, [f]: patch.on }));
    if (patch.value !== undefined) setValues((v) => ({ ...v, [f]: patch.value }));
    setPreview(undefined);
  }
  function body(dryRun: boolean) {
    const set: Record<string, string | null> = {};
    for (const f of fields) if (on[f]) set[f] = values[f] === "" ? null : values[f];
    return { dry_run: dryRun, selection: { filter }, set } as Schemas["CustomerBulkRequest"];
  }
  async function count(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const out = await must(api.POST("/v1/customers/bulk-update", { body: body(true) }));
      setPreview(out as BulkPreview);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }
  async function run() {
    setBusy(true);
    setError(undefined);
    try {
      const out = await must(api.POST("/v1/customers/bulk-update", {
        body: body(false), params: { header: { "Idempotency-Key": crypto.randomUUID() } },
      }));
      setJob((out as Schemas["JobsAcceptedResponse"]).job);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  if (job) {
    return (
      <div>
        <p class="notice" role="status">{m.bulk.started}</p>
        <JobStatus id={job.id} />
      </div>
    );
  }
  const control = (f: BulkField) => {
    switch (f) {
      case "sales_rep_id":
        return <Select label={m.field.sales_rep_id!} name="value-sales_rep_id" value={values[f]} onChange={(v) => change(f, { value: v })}
          options={[["", m.bulk.clear], ...refs.users.map((u): [string, string] => [u.id, `${u.name} (${u.role})`])]} />;
      case "payment_terms_id":
        return <Select label={m.field.payment_terms_id!} name="value-payment_terms_id" value={values[f]} onChange={(v) => change(f, { value: v })}
          options={[["", m.bulk.clear], ...refs.terms.map((t): [string, string] => [t.id, t.name])]} />;
      case "billing_status":
        return <Select label={m.field.billing_status!} name="value-billing_status" value={values[f]} onChange={(v) => change(f, { value: v })}
          options={["current", "on_hold", "collections", "closed"].map((s): [string, string] => [s, m.value[s] ?? s])} />;
      case "basis_date":
        return <TextInput label={m.field.basis_date!} name="value-basis_date" type="date" value={values[f]} onInput={(v) => change(f, { value: v })} />;
    }
  };
  const chosen = fields.some((f) => on[f]);
  return (
    <form class="card" aria-label={m.bulk.title} onSubmit={count}>
      <fieldset>
        <legend>{m.bulk.whatToSet}</legend>
        {fields.map((f) => (
          <div key={f} class="bulkrow">
            <div class="check">
              <input id={`set-${f}`} name={`set-${f}`} type="checkbox" checked={on[f]}
                onChange={(e) => change(f, { on: (e.currentTarget as HTMLInputElement).checked })} />
              <label for={`set-${f}`}>{m.bulk.set(m.field[f] ?? f)}</label>
            </div>
            {on[f] ? control(f) : null}
          </div>
        ))}
        {!canUsers ? <p class="hint small">{m.bulk.noRepChoice}</p> : null}
      </fieldset>
      {error ? <ProblemView error={error} /> : null}
      <div class="actions">
        <button type="submit" disabled={busy || !chosen} data-testid="bulk-count">{m.bulk.preview}</button>
      </div>
      {preview ? (
        <div class="notice" role="status" data-testid="bulk-preview" data-count={preview.would_change}>
          <p>{m.bulk.willChange(preview.would_change)}</p>
          <p class="small">{m.bulk.matched(preview.matched)}</p>
          <button type="button" class="primary" disabled={busy || preview.would_change === 0} data-testid="bulk-confirm" onClick={run}>
            {m.bulk.run}
          </button>
        </div>
      ) : null}
    </form>
  );
}
