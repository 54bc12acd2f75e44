// SMS (seed 004): the tenant's settings, whose secrets are write-only
// (shown only as set or not, with a field to replace them), message
// templates with a live preview of the rendered text, its encoding and
// its segments as the user types, the receivable-notice campaign counted
// by a dry run before it is sent, and the campaigns with their progress
// and messages. Each part is offered to the users whose permissions the
// API asks for it.
import { useEffect, useState } from "preact/hooks";
import { api, must, mustResponse, type ApiError, type Schemas } from "../api";
import { m } from "../messages";
import { navigate } from "../router";
import { useSession } from "../session";
import { Checkbox, Link, ProblemView, Select, Show, TextInput, asApiError, show, useLoad } from "../ui";
import { selectionFilter } from "./bulk";
import { JobStatus } from "./jobs";

type Tab = keyof typeof m.sms.tabs;
type Template = Schemas["SmsTemplateResponse"];
type Campaign = Schemas["SmsCampaignResponse"];

/** What a notice dry run answers (its 200, beside the started campaign's 202). */
type NoticeDryRun = Schemas["SmsNoticeDryRun"];

const TAB_PERMISSION: Record<Tab, string> = {
  settings: "settings:manage",
  templates: "sms:send",
  notices: "sms:send",
  campaigns: "customers:read",
};

export function Sms({ tab, query }: { tab: string | undefined; query: URLSearchParams }) {
  const session = useSession();
  const tabs = (Object.keys(m.sms.tabs) as Tab[]).filter((t) => session.can(TAB_PERMISSION[t]));
  const current = (tabs.includes(tab as Tab) ? tab : tabs[0]) as Tab | undefined;
  return (
    <section aria-labelledby="sms-title">
      <h1 id="sms-title">{m.sms.title}</h1>
      <nav class="tabs" aria-label={m.sms.title}>
        {tabs.map((t) => (
          <Link key={t} href={`/sms/${t}`} aria-current={t === current ? "page" : undefined} class="tab">{m.sms.tabs[t]}</Link>
        ))}
      </nav>
      {current === "settings" ? <Settings /> : null}
      {current === "templates" ? <Templates canWrite={session.can("settings:manage")} /> : null}
      {current === "notices" ? <Notices query={query} /> : null}
      {current === "campaigns" ? <Campaigns selected={query.get("campaign") ?? ""} /> : null}
      {!current ? <p class="problem" role="alert">{m.problem.forbidden}</p> : null}
    </section>
  );
}

// ---- settings ----------------------------------------------------------------

const PLAIN = ["account_sid", "api_key_sid", "from_number", "messaging_service_sid", "time_zone", "quiet_start", "quiet_end",
  "rate_per_second", "min_days_between", "portal_url"] as const;
const SECRETS = [["auth_token", "auth_token_set", "auth_token_last4"], ["api_key_secret", "api_key_secret_set", "api_key_secret_last4"]] as const;

function Settings() {
  const state = useLoad(async () => {
    const { data, response } = await mustResponse(api.GET("/v1/sms/settings"));
    return { settings: data, etag: response.headers.get("ETag") ?? "" };
  }, []);
  return <Show state={state}>{(s) => <SettingsForm {...s} onSaved={state.reload} />}</Show>;
}

function SettingsForm({ settings, etag, onSaved }: { settings: Schemas["SmsSettingsResponse"]; etag: string; onSaved: () => void }) {
  const before: Record<string, string> = {};
  for (const f of PLAIN) before[f] = settings[f] === null || settings[f] === undefined ? "" : String(settings[f]);
  const [form, setForm] = useState(before);
  const [secrets, setSecrets] = useState<Record<string, string>>({ auth_token: "", api_key_secret: "" });
  const [error, setError] = useState<ApiError>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const set = (k: string) => (v: string) => { setSaved(false); setForm((f) => ({ ...f, [k]: v })); };
  return (
    <form class="card" aria-label={m.sms.tabs.settings} onSubmit={async (e) => {
      e.preventDefault();
      setBusy(true);
      setError(undefined);
      try {
        const body: Record<string, unknown> = {};
        for (const f of PLAIN) {
          if (form[f] === before[f]) continue;
          const v = form[f] ?? "";
          body[f] = v === "" ? null : f === "rate_per_second" || f === "min_days_between" ? Number(v) : v;
        }
        for (const [k, v] of Object.entries(secrets)) if (v !== "") body[k] = v;
        await must(api.PATCH("/v1/sms/settings", { params: { header: { "If-Match": etag } }, body: body as Schemas["SmsPatchSettingsRequest"] }));
        setSecrets({ auth_token: "", api_key_secret: "" });
        setSaved(true);
        onSaved();
      } catch (err) {
        setError(asApiError(err));
      } finally {
        setBusy(false);
      }
    }}>
      <p data-testid="sms-configured">{settings.configured ? m.sms.configured : m.sms.notConfigured}</p>
      {error ? <ProblemView error={error} onReload={error.status === 412 ? onSaved : undefined} /> : null}
      {saved ? <p class="notice" role="status">{m.common.saved}</p> : null}
      <div class="grid">
        {PLAIN.map((f) => (
          <TextInput key={f} label={m.sms.settings[f] ?? f} name={f} value={form[f] ?? ""} onInput={set(f)} error={error?.field(f)}
            type={f === "rate_per_second" || f === "min_days_between" ? "number" : f === "quiet_start" || f === "quiet_end" ? "time" : "text"} />
        ))}
      </div>
      <h2>{m.sms.secrets}</h2>
      <div class="grid">
        {SECRETS.map(([f, isSet, last4]) => (
          <TextInput key={f} label={m.sms.settings[f] ?? f} name={f} type="password" autoComplete="new-password" value={secrets[f] ?? ""}
            onInput={(v) => { setSaved(false); setSecrets((s) => ({ ...s, [f]: v })); }} error={error?.field(f)}
            hint={settings[isSet] ? m.sms.secretSet(settings[last4] ?? "") : m.sms.secretNotSet} />
        ))}
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>{busy ? m.common.saving : m.common.save}</button>
      </div>
    </form>
  );
}

// ---- templates -----------------------------------------------------------------

/** Picks the customer whose values fill a preview: searched by name or code. */
function CustomerPicker({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const [q, setQ] = useState("");
  const [debounced, setDebounced] = useState("");
  useEffect(() => {
    const t = setTimeout(() => setDebounced(q), 250);
    return () => clearTimeout(t);
  }, [q]);
  const found = useLoad(() => must(api.GET("/v1/customers", { params: { query: { q: debounced || undefined, limit: 20, fields: "id,code,name,balance" } as never } })), [debounced]);
  useEffect(() => {
    const first = found.data?.items[0];
    if (first && !found.data?.items.some((c) => c.id === value)) onChange(first.id);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [found.data]);
  return (
    <div class="grid">
      <TextInput label={m.sms.findCustomer} name="preview-search" type="search" value={q} onInput={setQ} />
      <Select label={m.sms.previewFor} name="preview-customer" value={value} onChange={onChange}
        options={(found.data?.items ?? []).map((c): [string, string] => [c.id, `${c.name} (${c.code})`])} />
    </div>
  );
}

/** The rendered text, encoding and segments of body, refreshed as it changes (debounced). */
function LivePreview({ body, customerId }: { body: string; customerId: string }) {
  const [debounced, setDebounced] = useState(body);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(body), 300);
    return () => clearTimeout(t);
  }, [body]);
  const out = useLoad(async () => {
    if (!debounced || !customerId) return null;
    return must(api.POST("/v1/sms/templates/preview", { body: { body: debounced, customer_id: customerId, template_id: null } }));
  }, [debounced, customerId]);
  if (out.error) return <ProblemView error={out.error} />;
  if (!out.data) return null;
  const p = out.data;
  return (
    <div class="card smspreview" data-testid="sms-preview" aria-live="polite">
      <p class="smstext">{p.text}</p>
      <p class="small">
        <span data-testid="sms-encoding">{m.sms.encoding(p.encoding)}</span>{" · "}
        <span data-testid="sms-characters">{m.sms.characters(p.characters)}</span>{" · "}
        <span data-testid="sms-segments" data-segments={p.segments}>{m.sms.segments(p.segments)}</span>
      </p>
    </div>
  );
}

function Templates({ canWrite }: { canWrite: boolean }) {
  const list = useLoad(() => must(api.GET("/v1/sms/templates", { params: { query: { limit: 200 } } })), []);
  const [editing, setEditing] = useState<Template | "new" | null>(null);
  return (
    <div>
      <Show state={list}>
        {(page) => (
          <>
            <div class="titlebar">
              <h2>{m.sms.templates}</h2>
              {canWrite && editing === null ? <button type="button" class="primary" onClick={() => setEditing("new")}>{m.sms.newTemplate}</button> : null}
            </div>
            {page.items.length ? (
              <table class="list" data-testid="template-table">
                <thead><tr><th scope="col">{m.sms.templateName}</th><th scope="col">{m.sms.templateBody}</th><th scope="col"><span class="sr">{m.common.edit}</span></th></tr></thead>
                <tbody>
                  {page.items.map((t) => (
                    <tr key={t.id}>
                      <td>{t.name}</td>
                      <td class="smstext">{t.body}</td>
                      <td><button type="button" onClick={() => setEditing(t)}>{canWrite ? m.common.edit : m.sms.previewOne}</button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : <p class="empty">{m.common.empty}</p>}
          </>
        )}
      </Show>
      {editing !== null ? (
        <TemplateForm key={editing === "new" ? "new" : editing.id} template={editing === "new" ? undefined : editing} canWrite={canWrite}
          onDone={() => { setEditing(null); list.reload(); }} />
      ) : null}
      {editing === null ? <Scratch /> : null}
    </div>
  );
}

/** A body to try out without saving it: the preview only. */
function Scratch() {
  const [body, setBody] = useState("");
  const [customer, setCustomer] = useState("");
  return (
    <div class="card">
      <h2>{m.sms.tryOut}</h2>
      <BodyField value={body} onInput={setBody} />
      <CustomerPicker value={customer} onChange={setCustomer} />
      <LivePreview body={body} customerId={customer} />
    </div>
  );
}

function BodyField({ value, onInput, error }: { value: string; onInput: (v: string) => void; error?: string | undefined }) {
  return (
    <div class={error ? "field invalid" : "field"}>
      <label for="sms-body">{m.sms.templateBody}</label>
      <textarea id="sms-body" name="body" value={value} aria-describedby="sms-body-hint"
        onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)}
        onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) (e.currentTarget as HTMLTextAreaElement).form?.requestSubmit(); }} />
      <span id="sms-body-hint" class="hint">{m.sms.placeholders}</span>
      {error ? <span class="error" role="alert">{error}</span> : null}
    </div>
  );
}

function TemplateForm({ template, canWrite, onDone }: { template?: Template; canWrite: boolean; onDone: () => void }) {
  const [name, setName] = useState(template?.name ?? "");
  const [body, setBody] = useState(template?.body ?? "");
  const [customer, setCustomer] = useState("");
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  return (
    <form class="card" aria-label={template ? template.name : m.sms.newTemplate} onSubmit={async (e) => {
      e.preventDefault();
      if (!canWrite) return;
      setBusy(true);
      setError(undefined);
      try {
        if (template) {
          await must(api.PATCH("/v1/sms/templates/{id}", {
            params: { path: { id: template.id }, header: { "If-Match": `"${template.version}"` } }, body: { name, body },
          }));
        } else {
          await must(api.POST("/v1/sms/templates", { body: { name, body } }));
        }
        onDone();
      } catch (err) {
        setError(asApiError(err));
      } finally {
        setBusy(false);
      }
    }}>
      <h2>{template ? template.name : m.sms.newTemplate}</h2>
      {error ? <ProblemView error={error} /> : null}
      {canWrite ? <TextInput label={m.sms.templateName} name="name" value={name} onInput={setName} error={error?.field("name")} required /> : null}
      <BodyField value={body} onInput={setBody} error={error?.field("body")} />
      <CustomerPicker value={customer} onChange={setCustomer} />
      <LivePreview body={body} customerId={customer} />
      <div class="actions">
        {canWrite ? <button type="submit" class="primary" disabled={busy}>{busy ? m.common.saving : m.common.save}</button> : null}
        <button type="button" onClick={onDone}>{m.common.close}</button>
      </div>
    </form>
  );
}

// ---- receivable notices -------------------------------------------------------------

function Notices({ query }: { query: URLSearchParams }) {
  const templates = useLoad(() => must(api.GET("/v1/sms/templates", { params: { query: { limit: 200 } } })), []);
  const filter = selectionFilter(query);
  delete filter.tab;
  const [templateId, setTemplateId] = useState("");
  const [minBalance, setMinBalance] = useState("");
  const [overdueOnly, setOverdueOnly] = useState(false);
  const [preview, setPreview] = useState<NoticeDryRun>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const [started, setStarted] = useState<{ campaign: Campaign; jobId: string }>();
  const reset = <T,>(fn: (v: T) => void) => (v: T) => { setPreview(undefined); fn(v); };

  function body(dryRun: boolean): Schemas["SmsNoticeRequest"] {
    // min_balance is left out when empty: the API takes its absence as 0
    // and refuses a null, though its description allows one.
    const b: Schemas["SmsNoticeRequest"] = { dry_run: dryRun, selection: { filter }, template_id: templateId || null, overdue_only: overdueOnly };
    if (minBalance !== "") b.min_balance = minBalance;
    return b;
  }
  return (
    <Show state={templates}>
      {(t) => (
        <form class="card" aria-label={m.sms.tabs.notices} onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            const out = await must(api.POST("/v1/sms/receivable-notices", { body: body(true) }));
            setPreview(out as NoticeDryRun);
          } catch (err) {
            setError(asApiError(err));
          } finally {
            setBusy(false);
          }
        }}>
          <p>{m.sms.noticesIntro}</p>
          {Object.keys(filter).length ? (
            <ul class="chips">{Object.entries(filter).map(([k, v]) => <li key={k}>{m.field[k] ?? k}: {show(v)}</li>)}</ul>
          ) : <p class="small">{m.sms.everyCustomer}</p>}
          <div class="grid">
            <Select label={m.sms.template} name="template_id" value={templateId} onChange={reset(setTemplateId)} error={error?.field("template_id")}
              options={[["", m.sms.chooseTemplate], ...t.items.map((x): [string, string] => [x.id, x.name])]} />
            <TextInput label={m.sms.minBalance} name="min_balance" value={minBalance} onInput={reset(setMinBalance)} error={error?.field("min_balance")} />
          </div>
          <Checkbox label={m.sms.overdueOnly} name="overdue_only" checked={overdueOnly} onChange={reset(setOverdueOnly)} />
          {error ? <ProblemView error={error} /> : null}
          <div class="actions">
            <button type="submit" disabled={busy || !templateId} data-testid="notice-preview">{m.sms.countNotices}</button>
          </div>
          {preview ? (
            <div class="notice" role="status" data-testid="notice-count" data-count={preview.counts.eligible}>
              <p>{m.sms.willSend(preview.counts.eligible)}</p>
              {Object.entries(preview.counts.skipped ?? {}).length ? (
                <ul data-testid="notice-skipped">
                  {Object.entries(preview.counts.skipped ?? {}).map(([reason, n]) => <li key={reason}>{m.sms.skipped(m.sms.reasons[reason] ?? reason, n)}</li>)}
                </ul>
              ) : null}
              {(preview.preview ?? []).slice(0, 3).map((p) => (
                <p key={p.customer_id} class="small smstext">{p.to}: {p.text} ({m.sms.segments(p.segments)})</p>
              ))}
              <button type="button" class="primary" data-testid="notice-send" disabled={busy || preview.counts.eligible === 0} onClick={async () => {
                setBusy(true);
                setError(undefined);
                try {
                  const out = await must(api.POST("/v1/sms/receivable-notices", { body: body(false) }));
                  setPreview(undefined);
                  const accepted = out as Schemas["SmsNoticeAccepted"];
                  setStarted({ campaign: accepted.campaign, jobId: accepted.job.id });
                } catch (err) {
                  setError(asApiError(err));
                } finally {
                  setBusy(false);
                }
              }}>{m.sms.send(preview.counts.eligible)}</button>
            </div>
          ) : null}
          {started ? (
            <div>
              <JobStatus id={started.jobId} />
              <button type="button" onClick={() => navigate(`/sms/campaigns?campaign=${started.campaign.id}`)}>{m.sms.openCampaign}</button>
            </div>
          ) : null}
        </form>
      )}
    </Show>
  );
}

// ---- campaigns -----------------------------------------------------------------------

function Campaigns({ selected }: { selected: string }) {
  const list = useLoad(() => must(api.GET("/v1/sms/campaigns", { params: { query: { limit: 50 } } })), []);
  // Campaigns still sending refresh themselves.
  useEffect(() => {
    if (!list.data?.items.some((c) => !c.finished_at)) return;
    const t = setTimeout(list.reload, 2000);
    return () => clearTimeout(t);
  }, [list.data]);
  return (
    <div>
      <Show state={list}>
        {(page) => page.items.length ? (
          <div class="tablewrap">
            <table class="list" data-testid="campaign-table">
              <thead>
                <tr>
                  <th scope="col">{m.sms.createdAt}</th><th scope="col">{m.sms.state}</th><th scope="col" class="num">{m.sms.total}</th>
                  <th scope="col">{m.sms.progress}</th><th scope="col">{m.sms.templateBody}</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((c) => (
                  <tr key={c.id} data-id={c.id} aria-selected={c.id === selected}>
                    <td><Link href={`/sms/campaigns?campaign=${c.id}`}>{show(c.created_at)}</Link></td>
                    <td>{c.job_id ? <Link href={`/jobs/${c.job_id}`}>{m.sms.states[c.state] ?? c.state}</Link> : (m.sms.states[c.state] ?? c.state)}</td>
                    <td class="num">{c.total}</td>
                    <td>{m.sms.countsLine(c.counts)}</td>
                    <td class="smstext">{c.body}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : <p class="empty">{m.common.empty}</p>}
      </Show>
      {selected ? <Messages campaignId={selected} /> : null}
    </div>
  );
}

function Messages({ campaignId }: { campaignId: string }) {
  const list = useLoad(() => must(api.GET("/v1/sms/messages", { params: { query: { campaign_id: campaignId, limit: 200 } } })), [campaignId]);
  return (
    <div>
      <h2>{m.sms.messages}</h2>
      <Show state={list}>
        {(page) => page.items.length ? (
          <div class="tablewrap">
            <table class="list" data-testid="message-table">
              <thead><tr><th scope="col">{m.sms.to}</th><th scope="col">{m.sms.state}</th><th scope="col">{m.sms.templateBody}</th><th scope="col">{m.sms.sentAt}</th></tr></thead>
              <tbody>
                {page.items.map((x) => (
                  <tr key={x.id}>
                    <td><Link href={`/customers/${x.customer_id}`}>{show(x.to)}</Link></td>
                    <td>{m.sms.states[x.state] ?? x.state}{x.skip_reason ? ` (${m.sms.reasons[x.skip_reason] ?? x.skip_reason})` : ""}</td>
                    <td class="smstext">{show(x.body)}</td>
                    <td>{show(x.sent_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : <p class="empty">{m.common.empty}</p>}
      </Show>
    </div>
  );
}
