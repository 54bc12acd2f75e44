// Dormant customers (seed 004): customers without an order or payment
// for a while are swept out of the everyday list, and can be brought
// back. The sweep is previewed first (how many, and the first of them),
// then run as a job; the dormant customers are listed here with a
// reactivate button, and in the customer list with status=dormant.
import { useState } from "preact/hooks";
import { api, must, type ApiError, type Job, type Schemas } from "../api";
import { m } from "../messages";
import { useSession } from "../session";
import { Link, ProblemView, Show, asApiError, show, useLoad } from "../ui";
import { JobStatus } from "./jobs";

/** What a sweep's dry run answers (its 200, beside the started sweep's 202). */
type SweepPreview = Schemas["CustomerDormantPreviewResponse"];

/** A datetime-local value (the browser's time zone) as an RFC 3339 time. */
function toInstant(local: string): string | null {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

export function DormantCustomers() {
  const session = useSession();
  const canWrite = session.can("customers:write");
  const maySweep = canWrite && session.user.visibility === "all";
  const [tick, setTick] = useState(0);
  return (
    <section aria-labelledby="dormant-title">
      <h1 id="dormant-title">{m.dormant.title}</h1>
      <p>{m.dormant.intro}</p>
      {maySweep ? <Sweep onFinished={() => setTick((t) => t + 1)} /> : null}
      <DormantList canWrite={canWrite} tick={tick} />
    </section>
  );
}

function Sweep({ onFinished }: { onFinished: () => void }) {
  const [before, setBefore] = useState("");
  const [preview, setPreview] = useState<SweepPreview>();
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  function body(dryRun: boolean): Schemas["CustomerDormantSweepRequest"] {
    const b = toInstant(before);
    return b ? { dry_run: dryRun, before: b } : { dry_run: dryRun };
  }
  async function count(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setJob(undefined);
    try {
      const out = await must(api.POST("/v1/dormant-sweeps", { body: body(true) }));
      setPreview(out as SweepPreview);
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
      const out = await must(api.POST("/v1/dormant-sweeps", {
        body: body(false), params: { header: { "Idempotency-Key": crypto.randomUUID() } },
      }));
      setPreview(undefined);
      setJob((out as Schemas["JobsAcceptedResponse"]).job);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card" aria-label={m.dormant.sweep} onSubmit={count}>
      <h2>{m.dormant.sweep}</h2>
      <div class="field">
        <label for="dormant-before">{m.dormant.before}</label>
        <input id="dormant-before" name="before" type="datetime-local" step={1} value={before} aria-describedby="dormant-before-hint"
          onInput={(e) => { setBefore((e.currentTarget as HTMLInputElement).value); setPreview(undefined); }} />
        <span id="dormant-before-hint" class="hint">{m.dormant.beforeHint}</span>
      </div>
      {error ? <ProblemView error={error} /> : null}
      <div class="actions">
        <button type="submit" disabled={busy} data-testid="dormant-preview">{m.dormant.preview}</button>
      </div>
      {preview ? (
        <div class="notice" role="status" data-testid="dormant-count" data-count={preview.count}>
          <p>{m.dormant.willMark(preview.count)}</p>
          {preview.items.length ? (
            <>
              <p class="small">{m.dormant.sample}</p>
              <ul data-testid="dormant-sample">
                {preview.items.map((c) => <li key={c.id}><Link href={`/customers/${c.id}`}>{c.name}</Link> <span class="muted">{c.code}</span></li>)}
              </ul>
            </>
          ) : null}
          <button type="button" class="primary" disabled={busy || preview.count === 0} data-testid="dormant-run" onClick={run}>
            {m.dormant.run}
          </button>
        </div>
      ) : null}
      {job ? <JobStatus id={job.id} onFinished={onFinished} /> : null}
    </form>
  );
}

function DormantList({ canWrite, tick }: { canWrite: boolean; tick: number }) {
  const list = useLoad(() => must(api.GET("/v1/customers", {
    params: { query: { status: "dormant", sort: "name", limit: 50, fields: "id,code,name,last_order_at,balance" } },
  })), [tick]);
  const [done, setDone] = useState<Record<string, boolean>>({});
  const [error, setError] = useState<ApiError>();
  return (
    <div>
      <div class="titlebar">
        <h2>{m.dormant.listTitle}</h2>
        <Link href="/customers?status=dormant">{m.dormant.inList}</Link>
      </div>
      {error ? <ProblemView error={error} /> : null}
      <Show state={list}>
        {(page) =>
          page.items.length ? (
            <div class="tablewrap">
              <table class="list" data-testid="dormant-table">
                <thead>
                  <tr>
                    <th scope="col">{m.field.code}</th>
                    <th scope="col">{m.field.name}</th>
                    <th scope="col">{m.field.last_order_at}</th>
                    <th scope="col" class="num">{m.field.balance}</th>
                    {canWrite ? <th scope="col"><span class="sr">{m.dormant.reactivate}</span></th> : null}
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((c) => (
                    <tr key={c.id} data-id={c.id}>
                      <td>{c.code}</td>
                      <td><Link href={`/customers/${c.id}`}>{c.name}</Link></td>
                      <td>{show(c.last_order_at)}</td>
                      <td class="num">{show(c.balance)}</td>
                      {canWrite ? (
                        <td>
                          {done[c.id] ? (
                            <span role="status">{m.dormant.reactivated}</span>
                          ) : (
                            <button type="button" aria-label={m.dormant.reactivateOne(c.name)} onClick={async () => {
                              setError(undefined);
                              try {
                                await must(api.POST("/v1/customers/{id}/reactivate", {
                                  params: { path: { id: c.id }, header: { "Idempotency-Key": crypto.randomUUID() } },
                                }));
                                setDone((d) => ({ ...d, [c.id]: true }));
                              } catch (err) {
                                setError(asApiError(err));
                              }
                            }}>{m.dormant.reactivate}</button>
                          )}
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p class="empty">{m.dormant.none}</p>
          )
        }
      </Show>
    </div>
  );
}
