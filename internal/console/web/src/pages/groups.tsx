// Customer groups (seeds 000 and 001): the list, most recently modified
// first as the API answers it, searched by code ("any part of", "starts
// with" or "exact") and name, filtered by category; a group's page shows
// and edits its defaults (price list, payment terms, credit limit, credit
// days, discount) with If-Match, so a change made meanwhile is shown as a
// conflict. "New" and "Edit" are there for users with groups:write.
import { useEffect, useState } from "preact/hooks";
import { api, must, mustResponse, type ApiError, type Schemas } from "../api";
import { m } from "../messages";
import { navigate } from "../router";
import { useSession } from "../session";
import { CursorPager, Link, ProblemView, Select, Show, TextInput, asApiError, show, useCursorPaging, useLoad } from "../ui";

type Group = Schemas["GroupResponse"];

type Refs = {
  terms: Schemas["PricingPaymentTermsResponse"][];
  priceLists: Schemas["PricingPriceListResponse"][];
  categories: Schemas["GroupCategoryResponse"][];
};

async function loadRefs(): Promise<Refs> {
  const [terms, priceLists, categories] = await Promise.all([
    must(api.GET("/v1/payment-terms", { params: { query: { limit: 200 } } })),
    must(api.GET("/v1/price-lists", { params: { query: { limit: 200 } } })),
    must(api.GET("/v1/customer-group-categories")),
  ]);
  return { terms: terms.items, priceLists: priceLists.items, categories: categories.items };
}

/** GET /v1/customer-groups's match parameter → its label. */
const MATCHES: [string, string][] = [
  ["any", m.groups.matchAny],
  ["prefix", m.groups.matchPrefix],
  ["exact", m.groups.matchExact],
];

export function GroupList({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const refs = useLoad(loadRefs, []);
  const [code, setCode] = useState(query.get("code") ?? "");
  const [name, setName] = useState(query.get("name") ?? "");
  const paging = useCursorPaging("/groups", query);
  const matchMode = query.get("match") || "any";
  const category = query.get("category") ?? "";
  const cursor = query.get("cursor") ?? "";

  const list = useLoad(() => {
    const q: Record<string, string | number> = { limit: 50, match: matchMode };
    if (query.get("code")) q.code = query.get("code")!;
    if (query.get("name")) q.name = query.get("name")!;
    if (category) q.category = category;
    if (cursor) q.cursor = cursor;
    return must(api.GET("/v1/customer-groups", { params: { query: q } }));
  }, [query.toString()]);

  const update = paging.update;

  // Search as you type, after a short pause.
  useEffect(() => {
    if (code === (query.get("code") ?? "") && name === (query.get("name") ?? "")) return;
    const t = setTimeout(() => update({ code, name }), 250);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [code, name]);

  const canWrite = session.can("groups:write");
  return (
    <section aria-labelledby="groups-title">
      <div class="titlebar">
        <h1 id="groups-title">{m.groups.title}</h1>
        <div class="actions">
          {canWrite ? (
            <button type="button" class="primary" data-testid="new-group" onClick={() => navigate("/groups/new")}>
              {m.groups.new}
            </button>
          ) : null}
        </div>
      </div>
      <form class="filterbar" role="search" aria-label={m.groups.searchLabel}
        onSubmit={(e) => { e.preventDefault(); update({ code, name }); }}>
        <TextInput label={m.groups.code} name="search-code" type="search" value={code} onInput={setCode} />
        <Select label={m.groups.match} name="match" value={matchMode} onChange={(v) => update({ match: v === "any" ? "" : v })} options={MATCHES} />
        <TextInput label={m.groups.name} name="search-name" type="search" value={name} onInput={setName} />
        <Show state={refs}>
          {(r) => (
            <Select label={m.groups.category} name="category" value={category} onChange={(v) => update({ category: v })}
              options={[["", m.common.any], ...r.categories.map((c): [string, string] => [c.key, c.name])]} />
          )}
        </Show>
        <button type="submit">{m.common.search}</button>
      </form>
      <Show state={list}>
        {(page) =>
          page.items.length ? (
            <>
              <div class="tablewrap">
                <table class="list" data-testid="group-table">
                  <thead>
                    <tr>
                      <th scope="col">{m.groups.no}</th>
                      <th scope="col">{m.groups.code}</th>
                      <th scope="col">{m.groups.name}</th>
                      <th scope="col">{m.groups.category}</th>
                      <th scope="col" class="num">{m.groups.customers}</th>
                      <th scope="col" aria-sort="descending">{m.groups.modified}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.items.map((g, i) => (
                      <tr key={g.id} data-code={g.code}>
                        <td>{paging.depth * 50 + i + 1}.</td>
                        <td><Link href={`/groups/${g.id}`}>{g.code}</Link></td>
                        <td>{g.name}</td>
                        <td>{g.category_name}</td>
                        <td class="num">{g.customer_count}</td>
                        <td>{show(g.updated_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <CursorPager paging={paging} next={page.next_cursor} />
            </>
          ) : (
            <p class="empty">{m.groups.noMatch}</p>
          )
        }
      </Show>
    </section>
  );
}

export function GroupPage({ id }: { id: string }) {
  const refs = useLoad(loadRefs, []);
  if (id === "new") {
    return <Show state={refs}>{(r) => <GroupForm refs={r} />}</Show>;
  }
  return <Show state={refs}>{(r) => <GroupView id={id} refs={r} />}</Show>;
}

function GroupView({ id, refs }: { id: string; refs: Refs }) {
  const session = useSession();
  const [editing, setEditing] = useState(false);
  const state = useLoad(async () => {
    const { data, response } = await mustResponse(api.GET("/v1/customer-groups/{id}", { params: { path: { id } } }));
    return { group: data, etag: response.headers.get("ETag") ?? "" };
  }, [id]);
  return (
    <Show state={state}>
      {({ group, etag }) => (
        <section aria-labelledby="group-title">
          <p><Link href="/groups">← {m.groups.title}</Link></p>
          <div class="titlebar">
            <h1 id="group-title">{group.code} <span class="muted">{group.name}</span></h1>
            <div class="actions">
              {session.can("groups:write") && !editing ? (
                <button type="button" class="primary" data-testid="edit-group" onClick={() => setEditing(true)}>{m.common.edit}</button>
              ) : null}
            </div>
          </div>
          {editing ? (
            <GroupForm refs={refs} existing={{ group, etag }}
              onDone={() => { setEditing(false); state.reload(); }} onConflictReload={() => { setEditing(false); state.reload(); }} />
          ) : (
            <dl class="details" data-testid="group-details">
              <div><dt>{m.groups.category}</dt><dd>{group.category_name}</dd></div>
              <div><dt>{m.groups.code}</dt><dd data-field="code">{group.code}</dd></div>
              <div><dt>{m.groups.name}</dt><dd data-field="name">{group.name}</dd></div>
              <div><dt>{m.field.price_list_id}</dt><dd data-field="price_list_id">{refs.priceLists.find((p) => p.id === group.price_list_id)?.name ?? show(group.price_list_id)}</dd></div>
              <div><dt>{m.field.payment_terms_id}</dt><dd data-field="payment_terms_id">{refs.terms.find((t) => t.id === group.payment_terms_id)?.name ?? show(group.payment_terms_id)}</dd></div>
              <div><dt>{m.field.credit_limit}</dt><dd data-field="credit_limit">{show(group.credit_limit)}</dd></div>
              <div><dt>{m.field.credit_period_days}</dt><dd data-field="credit_days">{show(group.credit_days)}</dd></div>
              <div><dt>{m.field.discount_rate}</dt><dd data-field="discount_rate">{show(group.discount_rate)}</dd></div>
              <div><dt>{m.groups.customers}</dt><dd>{group.customer_count}</dd></div>
              <div><dt>{m.groups.modified}</dt><dd>{show(group.updated_at)}</dd></div>
            </dl>
          )}
          <p><Link href={`/customers?${new URLSearchParams({ [`group.${group.category}`]: group.code })}`}>{m.groups.showCustomers}</Link></p>
        </section>
      )}
    </Show>
  );
}

const FIELDS = ["code", "name", "price_list_id", "payment_terms_id", "credit_limit", "credit_days", "discount_rate"] as const;

function initial(g?: Group): Record<string, string> {
  const s: Record<string, string> = { category: g?.category ?? "" };
  for (const f of FIELDS) {
    const v = g?.[f];
    s[f] = v === null || v === undefined ? "" : String(v);
  }
  return s;
}

function GroupForm({ refs, existing, onDone, onConflictReload }: {
  refs: Refs; existing?: { group: Group; etag: string }; onDone?: () => void; onConflictReload?: () => void;
}) {
  const before = initial(existing?.group);
  if (!existing && !before.category) before.category = refs.categories[0]?.key ?? "";
  const [form, setForm] = useState(before);
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
      const body: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(form)) {
        if (k === "category" && !isNew) continue; // the category cannot change
        if (!isNew && (before[k] ?? "") === v) continue;
        body[k] = v === "" ? null : k === "credit_days" ? Number(v) : v;
      }
      if (isNew) {
        const created = await must(api.POST("/v1/customer-groups", {
          body: body as Schemas["GroupRequest"], params: { header: { "Idempotency-Key": crypto.randomUUID() } },
        }));
        navigate(`/groups/${created.id}`);
      } else {
        await must(api.PATCH("/v1/customer-groups/{id}", {
          params: { path: { id: existing.group.id }, header: { "If-Match": existing.etag } }, body: body as Schemas["GroupRequest"],
        }));
        onDone?.();
      }
    } catch (e2) {
      setError(asApiError(e2));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card" aria-label={isNew ? m.groups.add : m.common.edit} onSubmit={submit}>
      {isNew ? <h1>{m.groups.add}</h1> : null}
      {error?.status === 412 ? <ProblemView error={error} onReload={onConflictReload} /> : null}
      {error && error.status !== 412 ? <ProblemView error={error} /> : null}
      <div class="grid">
        {isNew ? (
          <>
            <TextInput label={m.groups.categoryKey} name="category" value={form.category ?? ""} onInput={set("category")} error={err("category")} required
              hint={refs.categories.map((c) => c.key).join(", ")} />
          </>
        ) : null}
        <TextInput label={m.groups.code} name="code" value={form.code ?? ""} onInput={set("code")} error={err("code")} required />
        <TextInput label={m.groups.name} name="name" value={form.name ?? ""} onInput={set("name")} error={err("name")} required />
      </div>
      <h2>{m.groups.defaults}</h2>
      <div class="grid">
        <Select label={m.field.price_list_id!} name="price_list_id" value={form.price_list_id ?? ""} onChange={set("price_list_id")} error={err("price_list_id")}
          options={[["", m.common.none], ...refs.priceLists.map((p): [string, string] => [p.id, p.name])]} />
        <Select label={m.field.payment_terms_id!} name="payment_terms_id" value={form.payment_terms_id ?? ""} onChange={set("payment_terms_id")} error={err("payment_terms_id")}
          options={[["", m.common.none], ...refs.terms.map((t): [string, string] => [t.id, t.name])]} />
        <TextInput label={m.field.credit_limit!} name="credit_limit" value={form.credit_limit ?? ""} onInput={set("credit_limit")} error={err("credit_limit")} />
        <TextInput label={m.field.credit_period_days!} name="credit_days" type="number" value={form.credit_days ?? ""} onInput={set("credit_days")} error={err("credit_days")} />
        <TextInput label={m.field.discount_rate!} name="discount_rate" value={form.discount_rate ?? ""} onInput={set("discount_rate")} error={err("discount_rate")} />
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>{busy ? m.common.saving : m.common.save}</button>
        <button type="button" onClick={() => (isNew ? navigate("/groups") : onDone?.())}>{m.common.cancel}</button>
      </div>
    </form>
  );
}
