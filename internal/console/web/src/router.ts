// A small router over the History API: the console lives under /app and
// the server answers every /app/... path with the same page, so a reload
// or a pasted address opens the same screen.
import { useEffect, useState } from "preact/hooks";

export const BASE = "/app";

function current(): string {
  const path = window.location.pathname;
  const rest = path.startsWith(BASE) ? path.slice(BASE.length) : path;
  return (rest || "/") + window.location.search;
}

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => listeners.forEach((fn) => fn()));

/** Goes to path (relative to /app, query included). */
export function navigate(path: string, replace = false, scroll = !replace): void {
  const url = BASE + path;
  if (replace) {
    window.history.replaceState(null, "", url);
  } else {
    window.history.pushState(null, "", url);
  }
  listeners.forEach((fn) => fn());
  if (scroll) {
    window.scrollTo(0, 0);
  }
}

/** The current path below /app and its query string. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const fn = () => setLoc(current());
    listeners.add(fn);
    return () => {
      listeners.delete(fn);
    };
  }, []);
  const [path = "/", search = ""] = loc.split("?", 2);
  return { path, query: new URLSearchParams(search) };
}

/** Matches "/customers/:id" against path; the parameters, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) {
    return null;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(":")) {
      params[w.slice(1)] = decodeURIComponent(g);
    } else if (w !== g) {
      return null;
    }
  }
  return params;
}

/** Replaces the query string of the current screen without a new history entry. */
export function setQuery(path: string, query: URLSearchParams): void {
  const qs = query.toString();
  navigate(qs ? `${path}?${qs}` : path, true);
}
