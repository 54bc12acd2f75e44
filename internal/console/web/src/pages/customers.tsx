// The customer list (seeds 002 and 003): search as you type, filters,
// sort, cursor paging, the columns the user picks (saved as their list
// views and restored on the next visit), totals on request, and the list's
// actions for those allowed them. Filters, sort, search and view live in
// the address, so a reload or a shared link shows the same list.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, must, salesReps, type Customer, type Me, type SalesRep, type Schemas } from "../api";
import { m } from "../messages";
import { navigate, setQuery } from "../router";
import { useSession } from "../session";
import { Checkbox, CursorPager, Link, ProblemView, Select, Show, asApiError, show, useCursorPaging, useLoad } from "../ui";
import { ExportButtons } from "./exportlist";

/** Columns a user can switch on, in the order the table shows them. */
export const COLUMNS = [
  "code", "name", "phone", "email", "city", "country", "balance", "overdue_amount", "total_order_value",
  "order_count", "average_order_value", "last_order_at", "engaged", "billing_status", "sales_rep_id",
  "payment_terms_id", "type", "kind", "status", "contact_name", "tax_number", "credit_limit", "updated_at",
] as const;

/** The columns before the user picks any (seed 003's table). */
export const DEFAULT_COLUMNS = ["name", "code", "phone", "email", "city", "country", "balance"];

/** Column → the sort its header toggles. */
const SORTABLE: Record<string, [string, string]> = {
  name: ["name", "-name"],
  code: ["code", "-code"],
  balance: ["-balance", "balance"],
  total_order_value: ["-total_order_value", "total_order_value"],
  last_order_at: ["-last_order_at", "last_order_at"],
  updated_at: ["-updated_at", "updated_at"],
};

/** The list's filters: query parameter → how the filter bar shows it. */
export const FILTER_KEYS = [
  "type", "kind", "status", "has_balance", "has_credit", "overdue", "engaged", "last_order_from", "last_order_to",
  "payment_terms_id", "sales_rep_id", "billing_status", "country",
];

/** The view the list saves column choices to when no other is chosen. */
export const DEFAULT_VIEW = "default";

/**
 * Bulk updates change many customers at once: the console offers them to
 * users who see the whole customer book (or may assign reps), not to a
 * sales rep working their own accounts.
 */
export function mayBulkUpdate(s: ReturnType<typeof useSession>): boolean {
  return s.can("customers:write") && (s.user.visibility === "all" || s.can("customers:assign"));
}

/** The list query the API takes, from the screen's address. */
export function listParams(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  query.forEach((v, k) => {
    if (v !== "" && k !== "cursor" && k !== "columns") {
      out[k] = v;
    }
  });
  return out;
}

/**
 * The filters a bulk selection takes for the list as shown: a saved
 * view's filters, then the address's own over them (the list's rule); the
 * view's name, sort and count are not filters.
 */
export function selectionOf(params: Record<string, string>, views: Schemas["CustomerViewResponse"][]): Record<string, string> {
  const view = views.find((v) => v.name === (params.view || DEFAULT_VIEW));
  const out: Record<string, string> = { ...(view?.filters ?? {}), ...params };
  delete out.view;
  return out;
}

type Lookups = {
  terms: Schemas["PricingPaymentTermsResponse"][];
  categories: Schemas["GroupCategoryResponse"][];
  groups: Schemas["GroupResponse"][];
  users: SalesRep[];
};

async function loadLookups(me: Me): Promise<Lookups> {
  const [terms, categories, groups, users] = await Promise.all([
    must(api.GET("/v1/payment-terms", { params: { query: { limit: 200 } } })),
    must(api.GET("/v1/customer-group-categories")),
    must(api.GET("/v1/customer-groups", { params: { query: { limit: 200 } } })),
    salesReps(me),
  ]);
  return { terms: terms.items, categories: categories.items, groups: groups.items, users };
}

export function CustomerList({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const lookups = useLoad(() => loadLookups(session), []);
  const [views, setViews] = useState<Schemas["CustomerViewResponse"][]>([]);
  const [columns, setColumns] = useState<string[] | null>(null);
  const [viewError, setViewError] = useState<ReturnType<typeof asApiError>>();
  const [search, setSearch] = useState(query.get("q") ?? "");
  const paging = useCursorPaging("/customers", query);
  const viewName = query.get("view") || DEFAULT_VIEW;

  // The saved views, and the chosen one's columns (the default view may
  // not exist yet: then the default columns).
  useEffect(() => {
    let live = true;
    must(api.GET("/v1/views")).then(
      (out) => {
        if (!live) return;
        setViews(out.items);
        const v = out.items.find((x) => x.name === viewName);
        setColumns(v && v.columns.length ? v.columns : DEFAULT_COLUMNS);
      },
      (err: unknown) => live && setViewError(asApiError(err)),
    );
    return () => {
      live = false;
    };
  }, [viewName]);

  // Search as you type: the address follows the box after a short pause.
  useEffect(() => {
    if (search === (query.get("q") ?? "")) return;
    const t = setTimeout(() => update({ q: search }), 250);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);

  const params = listParams(query);
  const cursor = query.get("cursor") ?? "";
  const fields = columns ? ["id", ...columns].join(",") : "";
  const list = useLoad(async () => {
    if (!columns) return undefined;
    const q: Record<string, string | number | boolean> = { ...params, fields, limit: 50 };
    delete q.view;
    if (cursor) q.cursor = cursor;
    return must(api.GET("/v1/customers", { params: { query: q as never } }));
  }, [query.toString(), fields]);

  const update = paging.update;

  async function saveColumns(next: string[]) {
    setColumns(next);
    const current = views.find((v) => v.name === viewName);
    const filters: Record<string, string> = current?.filters ?? {};
    try {
      const saved = await must(
        api.PUT("/v1/views/{name}", {
          params: { path: { name: viewName } },
          body: { columns: next, filters, sort: current?.sort ?? (params.sort || "name") },
        }),
      );
      setViews((vs) => [...vs.filter((v) => v.name !== saved.name), saved]);
      setViewError(undefined);
    } catch (err) {
      setViewError(asApiError(err));
    }
  }

  async function saveViewAs(name: string) {
    const filters: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) {
      if (k !== "sort" && k !== "view" && k !== "count") filters[k] = v;
    }
    try {
      const saved = await must(
        api.PUT("/v1/views/{name}", {
          params: { path: { name } },
          body: { columns: columns ?? DEFAULT_COLUMNS, filters, sort: params.sort || "name" },
        }),
      );
      setViews((vs) => [...vs.filter((v) => v.name !== saved.name), saved]);
      // The view now holds the filters and sort: the address names it alone.
      paging.reset();
      setQuery("/customers", new URLSearchParams(saved.name === DEFAULT_VIEW ? {} : { view: saved.name }));
    } catch (err) {
      setViewError(asApiError(err));
    }
  }

  // What the list shows: the chosen view's filters and sort, with the
  // address's own over them (the API's rule for view=).
  const view = views.find((v) => v.name === viewName);
  const shown: Record<string, string> = { ...(view?.filters ?? {}), ...params };
  const sort = params.sort || view?.sort || "name";
  return (
    <section aria-labelledby="customers-title">
      <div class="titlebar">
        <h1 id="customers-title">{m.customers.title}</h1>
        <div class="actions">
          {session.can("customers:write") ? (
            <button type="button" class="primary" onClick={() => navigate("/customers/new")}>
              {m.customers.add}
            </button>
          ) : null}
          {session.can("customers:import") ? (
            <button type="button" onClick={() => navigate("/imports")}>
              {m.customers.import}
            </button>
          ) : null}
          {mayBulkUpdate(session) ? (
            <button type="button" data-testid="bulk-update" onClick={() => navigate(`/bulk-update?${new URLSearchParams(selectionOf(params, views))}`)}>
              {m.customers.bulkUpdate}
            </button>
          ) : null}
          {session.can("customers:export") ? <ExportButtons params={params} columns={columns ?? DEFAULT_COLUMNS} /> : null}
        </div>
      </div>

      <form class="searchbar" role="search" onSubmit={(e) => { e.preventDefault(); update({ q: search }); }}>
        <label for="customer-search">{m.customers.searchLabel}</label>
        <input id="customer-search" type="search" value={search} placeholder={m.customers.searchHint}
          onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)} />
      </form>

      <details class="filters">
        <summary>{m.customers.filters}</summary>
        <Show state={lookups}>{(l) => <FilterBar params={shown} lookups={l} canUsers={session.user.visibility === "all"} onChange={update} />}</Show>
      </details>

      <div class="listbar">
        <Select label={m.customers.sort} value={sort} onChange={(v) => update({ sort: v })}
          options={Object.entries(m.customers.sorts)} />
        <Select label={m.customers.views} value={viewName} onChange={(v) => update({ view: v === DEFAULT_VIEW ? "" : v })}
          options={[[DEFAULT_VIEW, m.customers.defaultView], ...views.filter((v) => v.name !== DEFAULT_VIEW).map((v): [string, string] => [v.name, v.name])]} />
        <Checkbox label={m.customers.showTotal} checked={params.count === "exact"} onChange={(on) => update({ count: on ? "exact" : "" })} />
        <SaveViewAs onSave={saveViewAs} />
      </div>

      <details class="columns">
        <summary>{m.customers.columns}</summary>
        <fieldset>
          <legend>{m.customers.columns}</legend>
          {COLUMNS.map((c) => (
            <Checkbox key={c} name={`column-${c}`} label={m.field[c] ?? c} checked={columns?.includes(c) ?? false}
              onChange={(on) => {
                const cur = columns ?? DEFAULT_COLUMNS;
                const next = on ? COLUMNS.filter((x) => x === c || cur.includes(x)) : cur.filter((x) => x !== c);
                if (next.length) void saveColumns(next);
              }} />
          ))}
        </fieldset>
      </details>
      {viewError ? <ProblemView error={viewError} /> : null}

      <Show state={list}>
        {(page) =>
          page === undefined ? null : (
            <CustomerTable items={page.items} columns={columns ?? DEFAULT_COLUMNS} sort={sort}
              lookups={lookups.data} onSort={(s) => update({ sort: s })}
              total={page.total ?? undefined} exact={page.total_exact ?? false}
              pager={
                <CursorPager paging={paging} next={page.next_cursor} />
              } />
          )
        }
      </Show>
    </section>
  );
}

function SaveViewAs({ onSave }: { onSave: (name: string) => void }) {
  const [name, setName] = useState("");
  return (
    <form class="inline" onSubmit={(e) => { e.preventDefault(); if (name.trim()) onSave(name.trim()); setName(""); }}>
      <label for="view-name">{m.customers.viewName}</label>
      <input id="view-name" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
      <button type="submit">{m.customers.saveViewAs}</button>
    </form>
  );
}

function FilterBar({ params, lookups, canUsers, onChange }: {
  params: Record<string, string>; lookups: Lookups; canUsers: boolean; onChange: (c: Record<string, string>) => void;
}) {
  const any: [string, string] = ["", m.common.any];
  const balance = params.has_balance === "true" ? "has_balance" : params.has_credit === "true" ? "has_credit" : params.overdue === "true" ? "overdue" : "";
  const byCategory = useMemo(() => {
    const map = new Map<string, Schemas["GroupResponse"][]>();
    for (const g of lookups.groups) {
      map.set(g.category, [...(map.get(g.category) ?? []), g]);
    }
    return map;
  }, [lookups.groups]);
  return (
    <div class="filterbar">
      <Select label={m.customers.filter.type} value={params.type ?? ""} onChange={(v) => onChange({ type: v })}
        options={[any, ["individual", m.value.individual!], ["company", m.value.company!]]} />
      <Select label={m.customers.filter.status} value={params.status ?? ""} onChange={(v) => onChange({ status: v })}
        options={[["", m.value.active!], ["dormant", m.value.dormant!], ["inactive", m.value.inactive!], ["all", m.value.all!]]} />
      <Select label={m.customers.filter.balance} value={balance}
        onChange={(v) => onChange({ has_balance: v === "has_balance" ? "true" : "", has_credit: v === "has_credit" ? "true" : "", overdue: v === "overdue" ? "true" : "" })}
        options={[any, ["has_balance", m.customers.filter.hasBalance], ["has_credit", m.customers.filter.hasCredit], ["overdue", m.customers.filter.overdue]]} />
      <Select label={m.customers.filter.engaged} value={params.engaged ?? ""} onChange={(v) => onChange({ engaged: v })}
        options={[any, ["true", m.common.yes], ["false", m.common.no]]} />
      <div class="field">
        <label for="f-last-from">{m.customers.filter.lastOrderFrom}</label>
        <input id="f-last-from" type="date" value={params.last_order_from ?? ""} onChange={(e) => onChange({ last_order_from: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      <div class="field">
        <label for="f-last-to">{m.customers.filter.lastOrderTo}</label>
        <input id="f-last-to" type="date" value={params.last_order_to ?? ""} onChange={(e) => onChange({ last_order_to: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      <Select label={m.customers.filter.paymentTerms} value={params.payment_terms_id ?? ""} onChange={(v) => onChange({ payment_terms_id: v })}
        options={[any, ...lookups.terms.map((t): [string, string] => [t.id, t.name])]} />
      {canUsers ? (
        <Select label={m.customers.filter.salesRep} value={params.sales_rep_id ?? ""} onChange={(v) => onChange({ sales_rep_id: v })}
          options={[any, ...lookups.users.map((u): [string, string] => [u.id, u.name])]} />
      ) : null}
      <Select label={m.customers.filter.billingStatus} value={params.billing_status ?? ""} onChange={(v) => onChange({ billing_status: v })}
        options={[any, ...["current", "on_hold", "collections", "closed"].map((s): [string, string] => [s, m.value[s] ?? s])]} />
      {lookups.categories.map((c) => (
        <Select key={c.key} label={m.customers.filter.group(c.name)} value={params[`group.${c.key}`] ?? ""}
          onChange={(v) => onChange({ [`group.${c.key}`]: v })}
          options={[any, ...(byCategory.get(c.key) ?? []).map((g): [string, string] => [g.code, `${g.code} ${g.name}`])]} />
      ))}
    </div>
  );
}

function cell(c: Customer, col: string, lookups: Lookups | undefined): string {
  const v = (c as Record<string, unknown>)[col];
  if (col === "payment_terms_id" && typeof v === "string") {
    return lookups?.terms.find((t) => t.id === v)?.name ?? v;
  }
  if (col === "sales_rep_id" && typeof v === "string") {
    return lookups?.users.find((u) => u.id === v)?.name ?? v.slice(0, 8);
  }
  return show(v);
}

function CustomerTable(props: {
  items: Customer[]; columns: string[]; sort: string; lookups: Lookups | undefined; onSort: (s: string) => void;
  total: number | undefined; exact: boolean; pager: preact.ComponentChildren;
}) {
  if (!props.items.length) {
    return <p class="empty">{m.customers.noMatch}</p>;
  }
  return (
    <>
      {props.total !== undefined ? <p class="total" data-testid="total">{m.common.total(props.total, props.exact)}</p> : null}
      <div class="tablewrap">
        <table class="list" data-testid="customer-table">
          <thead>
            <tr>
              {props.columns.map((col) => {
                const s = SORTABLE[col];
                const dir = s && props.sort === s[0] ? (s[0].startsWith("-") ? "descending" : "ascending")
                  : s && props.sort === s[1] ? (s[1].startsWith("-") ? "descending" : "ascending") : undefined;
                return (
                  <th key={col} scope="col" aria-sort={dir} data-column={col}>
                    {s ? (
                      <button type="button" class="sort" onClick={() => props.onSort(props.sort === s[0] ? s[1] : s[0])}>
                        {m.field[col] ?? col}
                      </button>
                    ) : (m.field[col] ?? col)}
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {props.items.map((c) => (
              <tr key={c.id}>
                {props.columns.map((col, i) => (
                  <td key={col} class={["balance", "total_order_value", "average_order_value", "overdue_amount", "credit_limit", "order_count"].includes(col) ? "num" : undefined}>
                    {i === 0 || col === "name" ? <Link href={`/customers/${c.id}`}>{cell(c, col, props.lookups)}</Link> : cell(c, col, props.lookups)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.pager}
    </>
  );
}
