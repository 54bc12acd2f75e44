// Locations across customers (seed 002): every location of the customers
// the user sees, sorted by customer as the API answers them, with the
// columns the user picks (kept in this browser), filters by city, country
// and rep, the sales rep override of one location (PATCH with If-Match
// from the version the row was read with) and a bulk override of the
// ticked rows or of every location the filters select, counted first.
import { useState } from "preact/hooks";
import { api, must, salesReps, type ApiError, type Job, type SalesRep, type Schemas } from "../api";
import { m } from "../messages";
import { mayAssignReps, useSession } from "../session";
import { Checkbox, CursorPager, Link, ProblemView, Select, Show, TextInput, asApiError, show, useCursorPaging, useLoad } from "../ui";
import type { BulkPreview } from "./bulk";
import { JobStatus } from "./jobs";

type Location = Schemas["LocationResponse"];
type User = SalesRep;

const COLUMNS = ["customer", "label", "kinds", "line1", "city", "region", "postal_code", "country", "phone", "sales_rep_id", "updated_at"] as const;
type Column = (typeof COLUMNS)[number];
const DEFAULT_COLUMNS: Column[] = ["customer", "label", "line1", "city", "country", "sales_rep_id"];
const COLUMNS_KEY = "customerhub.location-columns";

function savedColumns(): Column[] {
  try {
    const v = JSON.parse(localStorage.getItem(COLUMNS_KEY) ?? "null") as unknown;
    if (Array.isArray(v)) {
      const cols = COLUMNS.filter((c) => v.includes(c));
      if (cols.length) return cols;
    }
  } catch {
    // A damaged entry falls back to the defaults.
  }
  return DEFAULT_COLUMNS;
}

const FILTERS = ["city", "country", "sales_rep_id"] as const;

export function LocationList({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const canUsers = mayAssignReps(session);
  const canWrite = session.can("customers:write") && canUsers;
  const users = useLoad(async () => ({ items: await salesReps(session) }), []);
  const [columns, setColumns] = useState<Column[]>(savedColumns);
  const paging = useCursorPaging("/locations", query);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [city, setCity] = useState(query.get("city") ?? "");
  const [country, setCountry] = useState(query.get("country") ?? "");
  const cursor = query.get("cursor") ?? "";
  const filter: Record<string, string> = {};
  for (const f of FILTERS) if (query.get(f)) filter[f] = query.get(f)!;

  const list = useLoad(() => {
    const q: Record<string, string | number> = { ...filter, limit: 50 };
    if (cursor) q.cursor = cursor;
    return must(api.GET("/v1/locations", { params: { query: q } }));
  }, [query.toString()]);

  const update = paging.update;
  function toggleColumn(c: Column, on: boolean) {
    const next = on ? COLUMNS.filter((x) => x === c || columns.includes(x)) : columns.filter((x) => x !== c);
    if (!next.length) return;
    setColumns(next);
    localStorage.setItem(COLUMNS_KEY, JSON.stringify(next));
  }
  const userName = (id: string | null | undefined) => (id ? users.data?.items.find((u) => u.id === id)?.name ?? id.slice(0, 8) : m.locations.noOverride);
  const cell = (l: Location, c: Column) => {
    switch (c) {
      case "customer":
        return <Link href={`/customers/${l.customer_id}`}>{l.customer.name}</Link>;
      case "kinds":
        return l.kinds.map((k) => m.customer.kinds[k] ?? k).join(", ");
      case "sales_rep_id":
        return userName(l.sales_rep_id);
      default:
        return show(l[c]);
    }
  };

  return (
    <section aria-labelledby="locations-title">
      <h1 id="locations-title">{m.locations.title}</h1>
      <form class="filterbar" role="search" aria-label={m.locations.filters}
        onSubmit={(e) => { e.preventDefault(); update({ city, country }); }}>
        <TextInput label={m.locations.city} name="filter-city" value={city} onInput={setCity} />
        <TextInput label={m.locations.country} name="filter-country" value={country} onInput={setCountry} />
        {canUsers ? (
          <Show state={users}>
            {(u) => (
              <Select label={m.locations.rep} name="filter-rep" value={query.get("sales_rep_id") ?? ""} onChange={(v) => update({ sales_rep_id: v })}
                options={[["", m.common.any], ...u.items.map((x): [string, string] => [x.id, x.name])]} />
            )}
          </Show>
        ) : null}
        <button type="submit">{m.common.apply}</button>
      </form>
      <details class="columns">
        <summary>{m.locations.columns}</summary>
        <fieldset>
          <legend>{m.locations.columns}</legend>
          {COLUMNS.map((c) => (
            <Checkbox key={c} name={`loc-column-${c}`} label={m.locations.column[c] ?? c} checked={columns.includes(c)} onChange={(on) => toggleColumn(c, on)} />
          ))}
        </fieldset>
      </details>
      <Show state={list}>
        {(page) => (
          <>
            {canWrite && users.data ? (
              <BulkOverride users={users.data.items} ids={[...picked]} filter={filter} onDone={() => { setPicked(new Set()); list.reload(); }} />
            ) : null}
            {page.items.length ? (
              <div class="tablewrap">
                <table class="list" data-testid="location-table">
                  <thead>
                    <tr>
                      {canWrite ? <th scope="col"><span class="sr">{m.locations.pick}</span></th> : null}
                      {columns.map((c) => <th key={c} scope="col" data-column={c}>{m.locations.column[c] ?? c}</th>)}
                      {canWrite ? <th scope="col">{m.locations.override}</th> : null}
                    </tr>
                  </thead>
                  <tbody>
                    {page.items.map((l) => (
                      <tr key={l.id} data-id={l.id}>
                        {canWrite ? (
                          <td>
                            <input type="checkbox" aria-label={m.locations.pickOne(l.customer.name, l.label)} checked={picked.has(l.id)}
                              onChange={(e) => {
                                const on = (e.currentTarget as HTMLInputElement).checked;
                                setPicked((p) => { const n = new Set(p); if (on) n.add(l.id); else n.delete(l.id); return n; });
                              }} />
                          </td>
                        ) : null}
                        {columns.map((c) => <td key={c} data-column={c}>{cell(l, c)}</td>)}
                        {canWrite && users.data ? <td><RepOverride key={`${l.id}-${l.version}`} location={l} users={users.data.items} onSaved={list.reload} /></td> : null}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p class="empty">{m.locations.none}</p>
            )}
            <CursorPager paging={paging} next={page.next_cursor} />
          </>
        )}
      </Show>
    </section>
  );
}

/**
 * One location's override: the choice is saved with its own button, not on
 * change, since a keyboard user arrowing through a closed select fires a
 * change for every option passed.
 */
function RepOverride({ location, users, onSaved }: { location: Location; users: User[]; onSaved: () => void }) {
  const [value, setValue] = useState(location.sales_rep_id ?? "");
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const changed = value !== (location.sales_rep_id ?? "");
  return (
    <form class="inline" aria-label={m.locations.overrideFor(location.customer.name, location.label)} onSubmit={async (e) => {
      e.preventDefault();
      setBusy(true);
      setError(undefined);
      try {
        await must(api.PATCH("/v1/locations/{id}", {
          params: { path: { id: location.id }, header: { "If-Match": `"${location.version}"` } },
          body: { sales_rep_id: value === "" ? null : value } as Schemas["LocationPatchLocationRequest"],
        }));
        onSaved();
      } catch (err) {
        setError(asApiError(err));
      } finally {
        setBusy(false);
      }
    }}>
      <select aria-label={m.locations.overrideFor(location.customer.name, location.label)} value={value}
        onChange={(e) => setValue((e.currentTarget as HTMLSelectElement).value)}>
        <option value="">{m.locations.noOverride}</option>
        {users.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
      </select>
      {changed ? <button type="submit" disabled={busy}>{m.common.save}</button> : null}
      {error ? <ProblemView error={error} onReload={onSaved} /> : null}
    </form>
  );
}

function BulkOverride({ users, ids, filter, onDone }: { users: User[]; ids: string[]; filter: Record<string, string>; onDone: () => void }) {
  const [rep, setRep] = useState("");
  const [preview, setPreview] = useState<BulkPreview>();
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const selection = ids.length ? { ids } : { filter };
  const key = JSON.stringify([selection, rep]);
  const [countedFor, setCountedFor] = useState("");
  const body = (dryRun: boolean) => ({ dry_run: dryRun, selection, set: { sales_rep_id: rep === "" ? null : rep } }) as Schemas["LocationBulkRequest"];
  return (
    <form class="card inline" aria-label={m.locations.bulkTitle} onSubmit={async (e) => {
      e.preventDefault();
      setBusy(true);
      setError(undefined);
      setJob(undefined);
      try {
        const out = await must(api.POST("/v1/locations/bulk-update", { body: body(true) }));
        setPreview(out as BulkPreview);
        setCountedFor(key);
      } catch (err) {
        setError(asApiError(err));
      } finally {
        setBusy(false);
      }
    }}>
      <Select label={m.locations.bulkSet(ids.length)} name="bulk-rep" value={rep} onChange={setRep}
        options={[["", m.locations.noOverride], ...users.map((u): [string, string] => [u.id, u.name])]} />
      <button type="submit" disabled={busy}>{m.locations.bulkCount}</button>
      {preview && countedFor === key ? (
        <span role="status" data-testid="location-bulk-preview">
          {m.locations.bulkWillChange(preview.matched)}{" "}
          <button type="button" class="primary" disabled={busy || preview.matched === 0} onClick={async () => {
            setBusy(true);
            setError(undefined);
            try {
              const out = await must(api.POST("/v1/locations/bulk-update", { body: body(false), params: { header: { "Idempotency-Key": crypto.randomUUID() } } }));
              setPreview(undefined);
              setJob((out as Schemas["JobsAcceptedResponse"]).job);
            } catch (err) {
              setError(asApiError(err));
            } finally {
              setBusy(false);
            }
          }}>{m.locations.bulkRun}</button>
        </span>
      ) : null}
      {error ? <ProblemView error={error} /> : null}
      {job ? <JobStatus id={job.id} onFinished={onDone} /> : null}
    </form>
  );
}
