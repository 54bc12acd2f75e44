// One customer (seed 003's profile page): details with the effective
// terms and where each comes from, contacts, addresses with their
// defaults, custom fields, order history, ledger and audit trail; edit
// with If-Match, so a change made meanwhile by someone else is shown as a
// conflict rather than overwritten. /customers/new creates one.
import { useState } from "preact/hooks";
import { api, must, mustResponse, salesReps, type ApiError, type Customer, type Me, type SalesRep, type Schemas } from "../api";
import { m } from "../messages";
import { navigate } from "../router";
import { mayAssignReps, useSession } from "../session";
import { Checkbox, Link, ProblemView, Select, Show, TextInput, asApiError, show, useLoad } from "../ui";

type Tab = keyof typeof m.customer.tabs;

type Refs = {
  terms: Schemas["PricingPaymentTermsResponse"][];
  priceLists: Schemas["PricingPriceListResponse"][];
  categories: Schemas["GroupCategoryResponse"][];
  groups: Schemas["GroupResponse"][];
  fields: Schemas["SettingsFieldResponse"][];
  reps: SalesRep[];
};

async function loadRefs(me: Me): Promise<Refs> {
  const [terms, priceLists, categories, groups, fields, reps] = await Promise.all([
    must(api.GET("/v1/payment-terms", { params: { query: { limit: 200 } } })),
    must(api.GET("/v1/price-lists", { params: { query: { limit: 200 } } })),
    must(api.GET("/v1/customer-group-categories")),
    must(api.GET("/v1/customer-groups", { params: { query: { limit: 200 } } })),
    must(api.GET("/v1/custom-fields")),
    salesReps(me),
  ]);
  return { terms: terms.items, priceLists: priceLists.items, categories: categories.items, groups: groups.items, fields: fields.items, reps };
}

export function CustomerPage({ id }: { id: string }) {
  const session = useSession();
  const refs = useLoad(() => loadRefs(session), []);
  if (id === "new") {
    return <Show state={refs}>{(r) => <CustomerForm refs={r} />}</Show>;
  }
  return <Show state={refs}>{(r) => <CustomerView id={id} refs={r} />}</Show>;
}

function CustomerView({ id, refs }: { id: string; refs: Refs }) {
  const session = useSession();
  const [tab, setTab] = useState<Tab>("details");
  const [editing, setEditing] = useState(false);
  const state = useLoad(async () => {
    const { data, response } = await mustResponse(api.GET("/v1/customers/{id}", { params: { path: { id } } }));
    return { customer: data, etag: response.headers.get("ETag") ?? "" };
  }, [id]);
  return (
    <Show state={state}>
      {({ customer, etag }) => (
        <section aria-labelledby="customer-title">
          <p><Link href="/customers">← {m.nav.customers}</Link></p>
          <div class="titlebar">
            <h1 id="customer-title">{customer.name} <span class="muted">{customer.code}</span></h1>
            <div class="actions">
              {session.can("customers:write") && !editing ? (
                <button type="button" class="primary" onClick={() => { setTab("details"); setEditing(true); }}>{m.common.edit}</button>
              ) : null}
            </div>
          </div>
          <div role="tablist" aria-label={customer.name} class="tabs">
            {(Object.keys(m.customer.tabs) as Tab[]).map((t) => (
              <button key={t} type="button" role="tab" id={`tab-${t}`} aria-selected={tab === t} aria-controls={`panel-${t}`}
                tabIndex={tab === t ? 0 : -1} onClick={() => setTab(t)}
                onKeyDown={(e) => {
                  const keys = Object.keys(m.customer.tabs) as Tab[];
                  const i = keys.indexOf(t);
                  if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
                    const next = keys[(i + (e.key === "ArrowRight" ? 1 : keys.length - 1)) % keys.length]!;
                    setTab(next);
                    document.getElementById(`tab-${next}`)?.focus();
                  }
                }}>
                {m.customer.tabs[t]}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
            {tab === "details" ? (
              editing ? (
                <CustomerForm refs={refs} existing={{ customer, etag }}
                  onDone={() => { setEditing(false); state.reload(); }} onConflictReload={() => state.reload()} />
              ) : (
                <Details customer={customer} refs={refs} />
              )
            ) : null}
            {tab === "contacts" ? <Contacts id={id} /> : null}
            {tab === "addresses" ? <Addresses id={id} canWrite={session.can("customers:write")} /> : null}
            {tab === "custom" ? <CustomValues customer={customer} refs={refs} /> : null}
            {tab === "orders" ? <Orders id={id} /> : null}
            {tab === "ledger" ? <Ledger id={id} /> : null}
            {tab === "audit" ? <Audit id={id} /> : null}
          </div>
        </section>
      )}
    </Show>
  );
}

function refName(field: string, value: unknown, refs: Refs): string {
  if (typeof value !== "string") return show(value);
  if (field === "payment_terms_id") return refs.terms.find((t) => t.id === value)?.name ?? value;
  if (field === "price_list_id") return refs.priceLists.find((p) => p.id === value)?.name ?? value;
  if (field === "sales_rep_id") return refs.reps.find((r) => r.id === value)?.name ?? value;
  return show(value);
}

function Dl({ fields, customer, refs }: { fields: string[]; customer: Customer; refs: Refs }) {
  return (
    <dl class="details">
      {fields.map((f) => (
        <div key={f}>
          <dt>{m.field[f] ?? f}</dt>
          <dd data-field={f}>{refName(f, (customer as Record<string, unknown>)[f], refs)}</dd>
        </div>
      ))}
    </dl>
  );
}

function Details({ customer, refs }: { customer: Customer; refs: Refs }) {
  const eff = customer.effective as Record<string, Schemas["CustomerEffectiveValue"]>;
  return (
    <div class="cols">
      <div>
        <h2>{m.customer.basic}</h2>
        <Dl customer={customer} refs={refs} fields={["type", "kind", "name", "code", "contact_name", "email", "phone", "website", "tax_number", "status", "sales_rep_id"]} />
        <h2>{m.field.groups}</h2>
        <ul class="chips">
          {Object.entries(customer.groups).map(([category, code]) => (
            <li key={category}>
              {refs.categories.find((c) => c.key === category)?.name ?? category}: {code}{" "}
              {refs.groups.find((g) => g.category === category && g.code === code)?.name ?? ""}
            </li>
          ))}
        </ul>
        <h2>{m.field.notes}</h2>
        <p class="notes">{customer.notes || m.common.none}</p>
      </div>
      <div>
        <h2>{m.customer.financial}</h2>
        <Dl customer={customer} refs={refs} fields={["currency", "discount_rate", "payment_terms_id", "default_payment_method", "tax_scheme", "price_list_id", "credit_limit", "credit_period_days", "credit_policy", "billing_status", "basis_date", "balance", "overdue_amount"]} />
        <h2>{m.customer.effective}</h2>
        <table class="list" data-testid="effective">
          <thead><tr><th scope="col">{m.field.name}</th><th scope="col">{m.customer.effectiveValue}</th><th scope="col">{m.customer.source}</th></tr></thead>
          <tbody>
            {Object.entries(eff).map(([f, v]) => (
              <tr key={f}>
                <th scope="row">{m.field[f] ?? f}</th>
                <td>{refName(f, v.value, refs)}</td>
                <td>{m.customer.sources[v.source] ?? v.source}{v.group ? ` ${v.group.code}` : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>{m.customer.activity}</h2>
        <Dl customer={customer} refs={refs} fields={["order_count", "total_order_value", "average_order_value", "last_order_at", "engaged", "created_at", "updated_at"]} />
      </div>
    </div>
  );
}

type FormState = Record<string, string>;

const TEXT_FIELDS = ["name", "code", "contact_name", "email", "phone", "website", "tax_number", "currency", "discount_rate",
  "default_payment_method", "tax_scheme", "credit_limit", "credit_period_days", "basis_date"] as const;

function initial(c?: Customer): FormState {
  const s: FormState = {};
  if (!c) {
    return { type: "company", kind: "customer" };
  }
  const rec = c as Record<string, unknown>;
  for (const f of [...TEXT_FIELDS, "type", "kind", "payment_terms_id", "price_list_id", "credit_policy", "billing_status", "status", "notes", "sales_rep_id"]) {
    const v = rec[f];
    s[f] = v === null || v === undefined ? "" : String(v);
  }
  for (const [category, code] of Object.entries(c.groups)) s[`group.${category}`] = code;
  for (const [k, v] of Object.entries(c.custom ?? {})) s[`custom.${k}`] = v === null ? "" : String(v);
  return s;
}

/** The request body: only what changed (PATCH), empty text as null. */
function body(form: FormState, before: FormState, refs: Refs, isNew: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const groups: Record<string, string | null> = {};
  const custom: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(form)) {
    if (!isNew && (before[k] ?? "") === v) continue;
    if (k.startsWith("group.")) {
      groups[k.slice(6)] = v === "" ? null : v;
    } else if (k.startsWith("custom.")) {
      const key = k.slice(7);
      const def = refs.fields.find((f) => f.key === key);
      custom[key] = v === "" ? null : def?.type === "number" ? Number(v) : def?.type === "bool" ? v === "true" : v;
    } else if (k === "credit_period_days") {
      out[k] = v === "" ? null : Number(v);
    } else {
      out[k] = v === "" ? null : v;
    }
  }
  if (Object.keys(groups).length) out.groups = groups;
  if (Object.keys(custom).length) out.custom = custom;
  return out;
}

function CustomerForm({ refs, existing, onDone, onConflictReload }: {
  refs: Refs; existing?: { customer: Customer; etag: string }; onDone?: () => void; onConflictReload?: () => void;
}) {
  const session = useSession();
  const before = initial(existing?.customer);
  const [form, setForm] = useState<FormState>(before);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const set = (k: string) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const err = (k: string) => error?.field(k);
  const isNew = !existing;

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const payload = body(form, before, refs, isNew) as Schemas["CustomerRequest"];
      if (isNew) {
        const created = await must(api.POST("/v1/customers", {
          body: payload, params: { header: { "Idempotency-Key": crypto.randomUUID() } },
        }));
        navigate(`/customers/${created.id}`);
      } else {
        await must(api.PATCH("/v1/customers/{id}", {
          params: { path: { id: existing.customer.id }, header: { "If-Match": existing.etag } }, body: payload,
        }));
        onDone?.();
      }
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  const choice = (values: string[]): [string, string][] => values.map((v) => [v, m.value[v] ?? v]);
  return (
    <form class="card" aria-label={isNew ? m.customer.new : m.common.edit} onSubmit={submit}>
      {isNew ? <h1>{m.customer.new}</h1> : null}
      {error?.status === 412 ? <ProblemView error={error} onReload={onConflictReload} /> : null}
      {error && error.status !== 412 ? <ProblemView error={error} /> : null}
      <div class="grid">
        <Select label={m.field.type!} name="type" value={form.type ?? ""} onChange={set("type")} options={choice(["company", "individual"])} error={err("type")} />
        <Select label={m.field.kind!} name="kind" value={form.kind ?? ""} onChange={set("kind")} options={choice(["customer", "vendor", "both"])} error={err("kind")} />
        {TEXT_FIELDS.map((f) => (
          <TextInput key={f} label={m.field[f] ?? f} name={f} value={form[f] ?? ""} onInput={set(f)} error={err(f)}
            type={f === "email" ? "email" : f === "basis_date" ? "date" : "text"} required={f === "name"} />
        ))}
        {mayAssignReps(session) ? (
          <Select label={m.field.sales_rep_id!} name="sales_rep_id" value={form.sales_rep_id ?? ""} onChange={set("sales_rep_id")}
            options={[["", m.common.none], ...refs.reps.map((r): [string, string] => [r.id, r.name])]} error={err("sales_rep_id")} />
        ) : null}
        <Select label={m.field.payment_terms_id!} name="payment_terms_id" value={form.payment_terms_id ?? ""} onChange={set("payment_terms_id")}
          options={[["", m.common.none], ...refs.terms.map((t): [string, string] => [t.id, t.name])]} error={err("payment_terms_id")} />
        <Select label={m.field.price_list_id!} name="price_list_id" value={form.price_list_id ?? ""} onChange={set("price_list_id")}
          options={[["", m.common.none], ...refs.priceLists.map((p): [string, string] => [p.id, p.name])]} error={err("price_list_id")} />
        <Select label={m.field.credit_policy!} name="credit_policy" value={form.credit_policy ?? ""} onChange={set("credit_policy")}
          options={[["", m.common.none], ...choice(["ignore", "warn", "block"])]} error={err("credit_policy")} />
        <Select label={m.field.billing_status!} name="billing_status" value={form.billing_status ?? ""} onChange={set("billing_status")}
          options={[["", m.common.none], ...choice(["current", "on_hold", "collections", "closed"])]} error={err("billing_status")} />
        {refs.categories.map((c) => (
          <Select key={c.key} label={m.customers.filter.group(c.name)} name={`group.${c.key}`} value={form[`group.${c.key}`] ?? ""}
            onChange={set(`group.${c.key}`)} error={err(`groups.${c.key}`)}
            options={[["", m.customer.noGroup], ...refs.groups.filter((g) => g.category === c.key).map((g): [string, string] => [g.code, `${g.code} ${g.name}`])]} />
        ))}
        {refs.fields.map((f) =>
          f.type === "select" ? (
            <Select key={f.key} label={f.label} name={`custom.${f.key}`} value={form[`custom.${f.key}`] ?? ""} onChange={set(`custom.${f.key}`)}
              options={[["", m.common.none], ...f.options.map((o): [string, string] => [o, o])]} error={err(`custom.${f.key}`)} />
          ) : f.type === "bool" ? (
            <Select key={f.key} label={f.label} name={`custom.${f.key}`} value={form[`custom.${f.key}`] ?? ""} onChange={set(`custom.${f.key}`)}
              options={[["", m.common.none], ["true", m.common.yes], ["false", m.common.no]]} error={err(`custom.${f.key}`)} />
          ) : (
            <TextInput key={f.key} label={f.label} name={`custom.${f.key}`} value={form[`custom.${f.key}`] ?? ""} onInput={set(`custom.${f.key}`)}
              type={f.type === "date" ? "date" : f.type === "number" ? "number" : "text"} required={f.required} error={err(`custom.${f.key}`)} />
          ),
        )}
      </div>
      <div class="field">
        <label for="notes">{m.field.notes}</label>
        <textarea id="notes" name="notes" value={form.notes ?? ""} onInput={(e) => set("notes")((e.currentTarget as HTMLTextAreaElement).value)} />
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>{busy ? m.common.saving : m.common.save}</button>
        <button type="button" onClick={() => (isNew ? navigate("/customers") : onDone?.())}>{m.common.cancel}</button>
      </div>
    </form>
  );
}

function CustomValues({ customer, refs }: { customer: Customer; refs: Refs }) {
  if (!refs.fields.length) return <p class="empty">{m.common.empty}</p>;
  return (
    <dl class="details">
      {refs.fields.map((f) => (
        <div key={f.key}><dt>{f.label}</dt><dd data-field={`custom.${f.key}`}>{show(customer.custom?.[f.key])}</dd></div>
      ))}
    </dl>
  );
}

function Contacts({ id }: { id: string }) {
  const state = useLoad(() => must(api.GET("/v1/customers/{id}/contacts", { params: { path: { id } } })), [id]);
  return (
    <Show state={state}>
      {(out) => out.items.length ? (
        <table class="list">
          <thead><tr><th scope="col">{m.field.name}</th><th scope="col">{m.field.email}</th><th scope="col">{m.field.phone}</th><th scope="col">{m.customer.primary}</th></tr></thead>
          <tbody>{out.items.map((c) => <tr key={c.id}><td>{c.name}{c.role ? ` (${c.role})` : ""}</td><td>{show(c.email)}</td><td>{show(c.phone)}</td><td>{show(c.primary)}</td></tr>)}</tbody>
        </table>
      ) : <p class="empty">{m.common.empty}</p>}
    </Show>
  );
}

function Addresses({ id, canWrite }: { id: string; canWrite: boolean }) {
  const state = useLoad(() => must(api.GET("/v1/customers/{id}/locations", { params: { path: { id } } })), [id]);
  const [adding, setAdding] = useState(false);
  return (
    <>
      <Show state={state}>
        {(out) => out.items.length ? (
          <table class="list" data-testid="addresses">
            <thead><tr><th scope="col">{m.locations.label}</th><th scope="col">{m.customer.addressKinds}</th><th scope="col">{m.locations.line1}</th><th scope="col">{m.locations.city}</th>
              <th scope="col">{m.locations.country}</th><th scope="col">{m.customer.defaultBilling}</th><th scope="col">{m.customer.defaultShipping}</th></tr></thead>
            <tbody>{out.items.map((l) => (
              <tr key={l.id}><td>{l.label}</td><td>{l.kinds.map((k) => m.customer.kinds[k] ?? k).join(", ")}</td><td>{l.line1}{l.line2 ? `, ${l.line2}` : ""}</td><td>{l.city}</td><td>{l.country}</td>
                <td>{show(l.default_billing)}</td><td>{show(l.default_shipping)}</td></tr>
            ))}</tbody>
          </table>
        ) : <p class="empty">{m.common.empty}</p>}
      </Show>
      {canWrite && !adding ? <button type="button" onClick={() => setAdding(true)}>{m.locations.add}</button> : null}
      {adding ? <AddressForm customerId={id} onDone={() => { setAdding(false); state.reload(); }} /> : null}
    </>
  );
}

function AddressForm({ customerId, onDone }: { customerId: string; onDone: () => void }) {
  const [f, setF] = useState<Record<string, string>>({ label: "", line1: "", line2: "", city: "", region: "", postal_code: "", country: "" });
  const [kinds, setKinds] = useState<Record<string, boolean>>({ billing: true, shipping: true, contact: false });
  const [billing, setBilling] = useState(true);
  const [shipping, setShipping] = useState(true);
  const [error, setError] = useState<ApiError>();
  const set = (k: string) => (v: string) => setF((x) => ({ ...x, [k]: v }));
  return (
    <form class="card" aria-label={m.locations.add} onSubmit={async (e) => {
      e.preventDefault();
      setError(undefined);
      try {
        const b: Record<string, unknown> = {
          kinds: Object.keys(kinds).filter((k) => kinds[k]),
          default_billing: billing && !!kinds.billing,
          default_shipping: shipping && !!kinds.shipping,
        };
        for (const [k, v] of Object.entries(f)) if (v !== "") b[k] = v;
        await must(api.POST("/v1/customers/{id}/locations", {
          params: { path: { id: customerId }, header: { "Idempotency-Key": crypto.randomUUID() } },
          body: b as Schemas["LocationCreateLocationRequest"],
        }));
        onDone();
      } catch (err) {
        setError(asApiError(err));
      }
    }}>
      {error ? <ProblemView error={error} /> : null}
      <div class="grid">
        <TextInput label={m.locations.label} name="label" value={f.label!} onInput={set("label")} error={error?.field("label")} />
        <TextInput label={m.locations.line1} name="line1" value={f.line1!} onInput={set("line1")} error={error?.field("line1")} required />
        <TextInput label={m.locations.line2} name="line2" value={f.line2!} onInput={set("line2")} error={error?.field("line2")} />
        <TextInput label={m.locations.city} name="city" value={f.city!} onInput={set("city")} error={error?.field("city")} />
        <TextInput label={m.locations.region} name="region" value={f.region!} onInput={set("region")} error={error?.field("region")} />
        <TextInput label={m.locations.postal} name="postal_code" value={f.postal_code!} onInput={set("postal_code")} error={error?.field("postal_code")} />
        <TextInput label={m.locations.country} name="country" value={f.country!} onInput={set("country")} error={error?.field("country")} />
      </div>
      <fieldset class="inline">
        <legend>{m.customer.addressKinds}</legend>
        {Object.keys(kinds).map((k) => (
          <Checkbox key={k} name={`kind-${k}`} label={m.customer.kinds[k] ?? k} checked={!!kinds[k]} onChange={(on) => setKinds((x) => ({ ...x, [k]: on }))} />
        ))}
        {kinds.billing ? <Checkbox name="default_billing" label={m.customer.defaultBilling} checked={billing} onChange={setBilling} /> : null}
        {kinds.shipping ? <Checkbox name="default_shipping" label={m.customer.defaultShipping} checked={shipping} onChange={setShipping} /> : null}
      </fieldset>
      {error?.field("kinds") ? <p class="error" role="alert">{error.field("kinds")}</p> : null}
      <div class="actions">
        <button type="submit" class="primary">{m.common.save}</button>
        <button type="button" onClick={onDone}>{m.common.cancel}</button>
      </div>
    </form>
  );
}

function Orders({ id }: { id: string }) {
  const state = useLoad(() => must(api.GET("/v1/customers/{id}/orders", { params: { path: { id }, query: { limit: 100 } } })), [id]);
  return (
    <Show state={state}>
      {(out) => out.items.length ? (
        <table class="list" data-testid="orders">
          <thead><tr><th scope="col">{m.customer.orderNumber}</th><th scope="col">{m.customer.orderDate}</th><th scope="col" class="num">{m.customer.orderTotal}</th>
            <th scope="col" class="num">{m.customer.outstanding}</th><th scope="col">{m.customer.orderStatus}</th></tr></thead>
          <tbody>{out.items.map((o) => (
            <tr key={o.id}><td>{o.number}</td><td>{o.order_date}</td><td class="num">{o.total} {o.currency}</td><td class="num">{o.outstanding}</td><td>{show(o.status)}</td></tr>
          ))}</tbody>
        </table>
      ) : <p class="empty">{m.common.empty}</p>}
    </Show>
  );
}

function Ledger({ id }: { id: string }) {
  const state = useLoad(() => must(api.GET("/v1/customers/{id}/ledger", { params: { path: { id }, query: { limit: 100 } } })), [id]);
  return (
    <Show state={state}>
      {(out) => out.items.length ? (
        <table class="list" data-testid="ledger">
          <thead><tr><th scope="col">{m.customer.ledgerDate}</th><th scope="col">{m.customer.ledgerEntry}</th><th scope="col" class="num">{m.customer.ledgerAmount}</th>
            <th scope="col" class="num">{m.customer.ledgerBalance}</th></tr></thead>
          <tbody>{out.items.map((e) => (
            <tr key={e.id}><td>{e.date}</td><td>{e.type} {e.number}{e.status ? ` (${show(e.status)})` : ""}</td><td class="num">{e.amount}</td><td class="num">{e.balance} {out.currency}</td></tr>
          ))}</tbody>
        </table>
      ) : <p class="empty">{m.common.empty}</p>}
    </Show>
  );
}

function Audit({ id }: { id: string }) {
  const state = useLoad(() => must(api.GET("/v1/audit", { params: { query: { entity: "customer", id, limit: 100 } } })), [id]);
  return (
    <Show state={state}>
      {(out) => out.items.length ? (
        <table class="list" data-testid="audit">
          <thead><tr><th scope="col">{m.customer.auditAt}</th><th scope="col">{m.customer.auditAction}</th><th scope="col">{m.customer.auditChanges}</th></tr></thead>
          <tbody>{out.items.map((e) => (
            <tr key={e.id}><td>{show(e.at)}</td><td>{e.action}</td>
              <td><ul class="changes">{Object.entries(e.changes ?? {}).map(([f, c]) => <li key={f}><strong>{m.field[f] ?? f}</strong>: {show(c.from)} → {show(c.to)}</li>)}</ul></td></tr>
          ))}</tbody>
        </table>
      ) : <p class="empty">{m.common.empty}</p>}
    </Show>
  );
}

