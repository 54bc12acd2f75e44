// Background jobs: the list of the jobs the user can see (newest first)
// with state and progress, and a job's page with live progress, its
// errors, cancel, and for a finished export the download of its file.
// Progress is read by polling GET /v1/jobs/{id} until the job ends: the
// same call a reload would make, and it survives a dropped connection.
import { useEffect, useState } from "preact/hooks";
import { api, download, must, type ApiError, type Job } from "../api";
import { m } from "../messages";
import { setQuery } from "../router";
import { useSession } from "../session";
import { CursorPager, Link, ProblemView, Select, Show, asApiError, show, useCursorPaging, useLoad } from "../ui";

const POLL_MS = 1000;

export function finished(job: Job): boolean {
  return job.state === "succeeded" || job.state === "failed" || job.state === "cancelled";
}

/** "3 of 10" (or "3" while the total is unknown) and a progress bar. */
export function ProgressBar({ job }: { job: Job }) {
  const { processed, total } = job.progress;
  const done = job.state === "succeeded";
  return (
    <div class="jobprogress">
      <progress max={total || 1} value={total ? processed : done ? 1 : undefined} aria-label={m.jobs.progress} />
      <span class="small" data-testid="job-progress">{m.jobs.processed(processed, total ?? null)}</span>
    </div>
  );
}

/** Follows a job until it ends; onFinished is called once with the final job. */
export function useJob(id: string, onFinished?: (job: Job) => void): { job?: Job; error?: ApiError; reload: () => void } {
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<ApiError>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const j = await must(api.GET("/v1/jobs/{id}", { params: { path: { id } } }));
        if (!live) return;
        setJob(j);
        setError(undefined);
        if (finished(j)) {
          onFinished?.(j);
          return;
        }
      } catch (err) {
        if (!live) return;
        const e = asApiError(err);
        setError(e);
        if (e.status === 403 || e.status === 404) return;
      }
      timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, tick]);
  return { job, error, reload: () => setTick((t) => t + 1) };
}

/** A job's state, progress, result and errors, live; used by every screen that starts one. */
export function JobStatus({ id, onFinished }: { id: string; onFinished?: (job: Job) => void }) {
  const { job, error } = useJob(id, onFinished);
  if (error && !job) return <ProblemView error={error} />;
  if (!job) return <p class="loading" role="status">{m.app.loading}</p>;
  return <JobSummary job={job} />;
}

function JobSummary({ job }: { job: Job }) {
  return (
    <div class="card" data-testid="job" data-state={job.state} aria-live="polite">
      <p>
        <strong>{m.jobs.kinds[job.kind] ?? job.kind}</strong>: <span data-testid="job-state">{m.jobs.states[job.state] ?? job.state}</span>{" "}
        <Link href={`/jobs/${job.id}`}>{m.jobs.open}</Link>
      </p>
      <ProgressBar job={job} />
      {job.result && Object.keys(job.result).length ? (
        <dl class="details" data-testid="job-result">
          {Object.entries(job.result).map(([k, v]) => (
            <div key={k}><dt>{m.jobs.result[k] ?? k}</dt><dd data-field={k}>{show(v)}</dd></div>
          ))}
        </dl>
      ) : null}
      {job.errors.length ? (
        <div>
          <h2>{m.jobs.errors}</h2>
          <ul data-testid="job-errors">
            {job.errors.map((e, i) => (
              <li key={i}>{show(e.at)}: {e.message}{e.code ? ` (${e.code})` : ""}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

const STATES = ["queued", "running", "succeeded", "failed", "cancelled"];

export function JobList({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const paging = useCursorPaging("/jobs", query);
  const state = query.get("state") ?? "";
  const mine = query.get("mine") !== "false";
  const cursor = query.get("cursor") ?? "";
  const list = useLoad(() => {
    const q: Record<string, string | number> = { limit: 50 };
    if (state) q.state = state;
    if (mine) q.created_by = session.user.id;
    if (cursor) q.cursor = cursor;
    return must(api.GET("/v1/jobs", { params: { query: q } }));
  }, [query.toString()]);
  // While a job is still running, the list refreshes itself.
  useEffect(() => {
    if (!list.data?.items.some((j) => !finished(j))) return;
    const t = setTimeout(list.reload, POLL_MS * 2);
    return () => clearTimeout(t);
  }, [list.data]);

  function update(changes: Record<string, string>) {
    const next = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) {
      if (v === "") next.delete(k);
      else next.set(k, v);
    }
    next.delete("cursor");
    paging.reset();
    setQuery("/jobs", next);
  }

  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">{m.jobs.title}</h1>
      <div class="listbar">
        <Select label={m.jobs.state} name="state" value={state} onChange={(v) => update({ state: v })}
          options={[["", m.common.any], ...STATES.map((s): [string, string] => [s, m.jobs.states[s] ?? s])]} />
        <Select label={m.jobs.whose} name="whose" value={mine ? "mine" : "all"} onChange={(v) => update({ mine: v === "mine" ? "" : "false" })}
          options={[["mine", m.jobs.mine], ["all", m.jobs.allVisible]]} />
      </div>
      <Show state={list}>
        {(page) =>
          page.items.length ? (
            <>
              <div class="tablewrap">
                <table class="list" data-testid="job-table">
                  <thead>
                    <tr>
                      <th scope="col">{m.jobs.kind}</th>
                      <th scope="col">{m.jobs.state}</th>
                      <th scope="col">{m.jobs.progress}</th>
                      <th scope="col">{m.jobs.created}</th>
                      <th scope="col">{m.jobs.finished}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.items.map((j) => (
                      <tr key={j.id} data-id={j.id} data-state={j.state}>
                        <td><Link href={`/jobs/${j.id}`}>{m.jobs.kinds[j.kind] ?? j.kind}</Link></td>
                        <td>{m.jobs.states[j.state] ?? j.state}</td>
                        <td>{m.jobs.processed(j.progress.processed, j.progress.total ?? null)}</td>
                        <td>{show(j.created_at)}</td>
                        <td>{show(j.finished_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <CursorPager paging={paging} next={page.next_cursor} />
            </>
          ) : (
            <p class="empty">{m.jobs.none}</p>
          )
        }
      </Show>
    </section>
  );
}

/** The permission a job's kind needs for its file or its cancel, as the API checks it. */
const KIND_PERMISSION: Record<string, string> = {
  customer_export: "customers:export",
  import: "customers:import",
  customer_merge: "customers:merge",
  sms_campaign: "sms:send",
};

export function JobPage({ id }: { id: string }) {
  const session = useSession();
  const { job, error, reload } = useJob(id);
  const [actionError, setActionError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  if (error && !job) return <ProblemView error={error} />;
  if (!job) return <p class="loading" role="status">{m.app.loading}</p>;
  const permission = KIND_PERMISSION[job.kind] ?? "customers:write";
  const mayAct = session.can(permission) && (job.created_by === session.user.id || session.user.visibility === "all");
  return (
    <section aria-labelledby="job-title">
      <p><Link href="/jobs">← {m.jobs.title}</Link></p>
      <div class="titlebar">
        <h1 id="job-title">{m.jobs.kinds[job.kind] ?? job.kind}</h1>
        <div class="actions">
          {mayAct && !finished(job) && !job.cancel_requested_at ? (
            <button type="button" class="danger" disabled={busy} onClick={async () => {
              setBusy(true);
              setActionError(undefined);
              try {
                await must(api.POST("/v1/jobs/{id}/cancel", { params: { path: { id } } }));
                reload();
              } catch (err) {
                setActionError(asApiError(err));
              } finally {
                setBusy(false);
              }
            }}>{m.jobs.cancel}</button>
          ) : null}
          {mayAct && job.state === "succeeded" && job.kind === "customer_export" ? (
            <button type="button" class="primary" data-testid="job-download" disabled={busy} onClick={async () => {
              setActionError(undefined);
              try {
                await download(`/v1/jobs/${id}/result`, "customers.xlsx");
              } catch (err) {
                setActionError(asApiError(err));
              }
            }}>{m.common.download}</button>
          ) : null}
        </div>
      </div>
      {actionError ? <ProblemView error={actionError} /> : null}
      {job.cancel_requested_at && !finished(job) ? <p class="notice">{m.jobs.cancelRequested}</p> : null}
      <dl class="details">
        <div><dt>{m.jobs.created}</dt><dd>{show(job.created_at)}</dd></div>
        <div><dt>{m.jobs.startedAt}</dt><dd>{show(job.started_at)}</dd></div>
        <div><dt>{m.jobs.finished}</dt><dd>{show(job.finished_at)}</dd></div>
        <div><dt>{m.jobs.attempts}</dt><dd>{job.attempts}</dd></div>
      </dl>
      <JobSummary job={job} />
    </section>
  );
}
