// The console's screens beyond the customer list and page: their address,
// their entry in the navigation (when they have one) and the permission
// that entry needs. A screen reached without the permission still opens
// and shows the API's 403.
import type { ComponentChildren } from "preact";
import { m } from "../messages";
import { ImportPage, ImportUpload } from "./imports";

export type Screen = {
  path: string;
  nav?: string;
  permission?: string;
  render: (params: Record<string, string>, query: URLSearchParams) => ComponentChildren;
};

export const screens: Screen[] = [
  { path: "/imports", nav: m.nav.imports, permission: "customers:import", render: () => <ImportUpload /> },
  { path: "/imports/:id", permission: "customers:import", render: (p) => <ImportPage id={p.id!} /> },
];
