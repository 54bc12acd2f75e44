// Import (seed 004's Excel uploader, seed 003's import): the template to
// fill in, the upload with its mode and options, then the import's page:
// a live progress bar from the job's events, the counts, the columns the
// file had that the import does not know, the row errors (paged) and the
// errors file to fix and upload again.
import { useEffect, useState } from "preact/hooks";
import { api, download, must, rawFetch, type ApiError, type Schemas } from "../api";
import { followJob, type Progress } from "../jobevents";
import { m } from "../messages";
import { navigate } from "../router";
import { Checkbox, Link, Pager, ProblemView, Select, Show, asApiError, show, useLoad } from "../ui";

export function ImportUpload() {
  const [file, setFile] = useState<File | null>(null);
  const [mode, setMode] = useState("create");
  const [matchOn, setMatchOn] = useState("code");
  const [dryRun, setDryRun] = useState(false);
  const [allOrNothing, setAllOrNothing] = useState(false);
  const [mapping, setMapping] = useState("");
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const recent = useLoad(() => must(api.GET("/v1/imports", { params: { query: { limit: 20 } } })), []);

  async function submit(e: Event) {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(undefined);
    try {
      const form = new FormData();
      form.set("file", file);
      form.set("mode", mode);
      form.set("match_on", matchOn);
      form.set("dry_run", String(dryRun));
      form.set("all_or_nothing", String(allOrNothing));
      if (mapping.trim()) form.set("mapping", mapping.trim());
      const response = await rawFetch("/v1/imports", {
        method: "POST",
        body: form,
        headers: { "Idempotency-Key": crypto.randomUUID() },
      });
      const out = (await response.json()) as Schemas["ImporterAcceptedResponse"];
      navigate(`/imports/${out.import.id}`);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="imports-title">
      <h1 id="imports-title">{m.imports.title}</h1>
      <p>{m.imports.intro}</p>
      <div class="actions">
        <span>{m.imports.template}:</span>
        <button type="button" onClick={() => download("/v1/imports/template.xlsx", "customers-template.xlsx").catch((err: unknown) => setError(asApiError(err)))}>
          {m.exportList.xlsx}
        </button>
        <button type="button" onClick={() => download("/v1/imports/template.csv", "customers-template.csv").catch((err: unknown) => setError(asApiError(err)))}>
          {m.exportList.csv}
        </button>
      </div>
      <form class="card" aria-label={m.imports.upload} onSubmit={submit}>
        <div class="field">
          <label for="import-file">{m.imports.file}</label>
          <input id="import-file" name="file" type="file" required accept=".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            aria-describedby={error?.field("file") ? "import-file-err" : undefined}
            onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
          {error?.field("file") ? <span id="import-file-err" class="error" role="alert">{error.field("file")}</span> : null}
        </div>
        <div class="grid">
          <Select label={m.imports.mode} name="mode" value={mode} onChange={setMode}
            options={[["create", m.imports.modes.create!], ["update", m.imports.modes.update!], ["upsert", m.imports.modes.upsert!]]} error={error?.field("mode")} />
          <Select label={m.imports.matchOn} name="match_on" value={matchOn} onChange={setMatchOn}
            options={[["code", m.field.code!], ["tax_number", m.field.tax_number!], ["email", m.field.email!]]} error={error?.field("match_on")} />
        </div>
        <Checkbox name="dry_run" label={m.imports.dryRun} checked={dryRun} onChange={setDryRun} />
        <Checkbox name="all_or_nothing" label={m.imports.allOrNothing} checked={allOrNothing} onChange={setAllOrNothing} />
        <details>
          <summary>{m.imports.mapping}</summary>
          <div class="field">
            <label for="import-mapping">{m.imports.mappingLabel}</label>
            <textarea id="import-mapping" name="mapping" value={mapping} placeholder='{"Kundennummer": "code"}'
              onInput={(e) => setMapping((e.currentTarget as HTMLTextAreaElement).value)} />
            {error?.field("mapping") ? <span class="error" role="alert">{error.field("mapping")}</span> : null}
          </div>
        </details>
        {error && !error.field("file") && !error.field("mapping") ? <ProblemView error={error} /> : null}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || !file}>{busy ? m.imports.uploading : m.imports.upload}</button>
        </div>
      </form>
      <h2>{m.imports.history}</h2>
      <Show state={recent}>
        {(out) => out.items.length ? (
          <table class="list" data-testid="imports">
            <thead><tr><th scope="col">{m.imports.fileName}</th><th scope="col">{m.imports.mode}</th><th scope="col">{m.imports.state}</th>
              <th scope="col" class="num">{m.imports.countNames.total}</th><th scope="col" class="num">{m.imports.countNames.failed}</th><th scope="col">{m.imports.started}</th></tr></thead>
            <tbody>{out.items.map((i) => (
              <tr key={i.id}><td><Link href={`/imports/${i.id}`}>{i.file_name}</Link></td><td>{m.imports.modes[i.mode] ?? i.mode}{i.dry_run ? ` (${m.imports.dryRunShort})` : ""}</td>
                <td>{m.imports.states[i.state] ?? i.state}</td><td class="num">{i.counts.total}</td><td class="num">{i.counts.failed}</td><td>{show(i.created_at)}</td></tr>
            ))}</tbody>
          </table>
        ) : <p class="empty">{m.common.empty}</p>}
      </Show>
    </section>
  );
}

export function ImportPage({ id }: { id: string }) {
  const [cursor, setCursor] = useState<string | undefined>();
  const [cursors, setCursors] = useState<string[]>([]);
  const state = useLoad(async () => must(api.GET("/v1/imports/{id}", { params: { path: { id }, query: cursor ? { cursor, limit: 50 } : { limit: 50 } } })), [id, cursor]);
  const [progress, setProgress] = useState<Progress>();
  const [streamError, setStreamError] = useState<ApiError>();
  const running = state.data && (state.data.state === "queued" || state.data.state === "running");
  const jobId = state.data?.job_id;

  useEffect(() => {
    if (!running || !jobId) return;
    // The counts follow the progress: the import is read again at most
    // once a second while events arrive, and once more at the end.
    let last = 0;
    return followJob(
      jobId,
      (p) => {
        setProgress(p);
        if (Date.now() - last > 1000) {
          last = Date.now();
          state.reload();
        }
      },
      () => state.reload(),
      (err) => setStreamError(asApiError(err)),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [running, jobId]);

  return (
    <Show state={state}>
      {(imp) => {
        const p = running && progress ? progress : { processed: imp.progress.processed, total: imp.progress.total, state: imp.state };
        return (
          <section aria-labelledby="import-title">
            <p><Link href="/imports">← {m.imports.title}</Link></p>
            <h1 id="import-title">{imp.file_name}</h1>
            <p data-testid="import-state" data-state={imp.state}>
              {m.imports.states[imp.state] ?? imp.state}
              {imp.dry_run ? ` · ${m.imports.dryRunShort}` : ""} · {m.imports.modes[imp.mode] ?? imp.mode}
            </p>
            <ImportProgress progress={p} done={!running} />
            {imp.reason ? <p class="problem" role="alert">{imp.reason}</p> : null}
            {streamError ? <ProblemView error={streamError} /> : null}
            <Counts counts={imp.counts} />
            {imp.unknown_columns.length ? (
              <p data-testid="unknown-columns">{m.imports.unknownColumns}: {imp.unknown_columns.join(", ")}</p>
            ) : null}
            {imp.summary.payment_terms_created?.length ? (
              <p>{m.imports.termsCreated}: {imp.summary.payment_terms_created.map((t) => t.name).join(", ")}</p>
            ) : null}
            {imp.counts.failed > 0 ? (
              <>
                <div class="titlebar">
                  <h2>{m.imports.errors}</h2>
                  <button type="button" onClick={() => download(`/v1/imports/${imp.id}/errors.xlsx`, "import-errors.xlsx").catch((err: unknown) => setStreamError(asApiError(err)))}>
                    {m.imports.errorsFile}
                  </button>
                </div>
                <RowErrors errors={imp.errors} />
                <Pager hasPrevious={cursors.length > 0} next={imp.errors_next_cursor}
                  onPrevious={() => { const prev = cursors.slice(0, -1); setCursors(prev); setCursor(prev[prev.length - 1]); }}
                  onNext={() => { if (imp.errors_next_cursor) { setCursors([...cursors, imp.errors_next_cursor]); setCursor(imp.errors_next_cursor); } }} />
              </>
            ) : null}
          </section>
        );
      }}
    </Show>
  );
}

function ImportProgress({ progress, done }: { progress: Progress; done: boolean }) {
  // A CSV's row count is known only once it has been read: until then the
  // bar is indeterminate and the label counts the rows done.
  const total = progress.total ?? 0;
  const label = total ? m.imports.rows(progress.processed, total) : progress.processed ? m.imports.rowsSoFar(progress.processed) : done ? "" : m.imports.waiting;
  const value = done && total ? total : progress.processed;
  return (
    <div class="field" data-testid="import-progress" data-processed={progress.processed} data-total={total}>
      <label for="import-progress-bar">{m.imports.progress}</label>
      {total ? (
        <progress id="import-progress-bar" max={total} value={value} aria-valuetext={label} />
      ) : (
        <progress id="import-progress-bar" aria-valuetext={label} />
      )}
      <span class="hint" aria-live="polite">{label}</span>
    </div>
  );
}

function Counts({ counts }: { counts: Schemas["ImporterCounts"] }) {
  return (
    <dl class="details" data-testid="import-counts">
      {(Object.keys(m.imports.countNames) as (keyof typeof m.imports.countNames)[]).map((k) => (
        <div key={k}><dt>{m.imports.countNames[k]}</dt><dd data-count={k}>{counts[k].toLocaleString()}</dd></div>
      ))}
    </dl>
  );
}

function RowErrors({ errors }: { errors: Schemas["ImporterRowError"][] }) {
  return (
    <div class="tablewrap">
      <table class="list" data-testid="row-errors">
        <thead><tr><th scope="col" class="num">{m.imports.row}</th><th scope="col">{m.imports.column}</th><th scope="col">{m.imports.value}</th><th scope="col">{m.imports.message}</th></tr></thead>
        <tbody>{errors.map((e, i) => (
          <tr key={`${e.row}-${e.column}-${i}`}><td class="num">{e.row}</td><td>{e.column}</td><td>{e.value}</td><td>{e.message}</td></tr>
        ))}</tbody>
      </table>
    </div>
  );
}
