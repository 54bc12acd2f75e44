// The console's screens beyond the customer list and page: their address,
// their entry in the navigation (when they have one) and the permission
// that entry needs. A screen reached without the permission still opens
// and shows the API's 403.
import type { ComponentChildren } from "preact";
import { m } from "../messages";
import { BulkUpdate } from "./bulk";
import { DormantCustomers } from "./dormant";
import { GroupList, GroupPage } from "./groups";
import { JobList, JobPage } from "./jobs";
import { LocationList } from "./locations";
import { ImportPage, ImportUpload } from "./imports";
import { Sms } from "./sms";

export type Screen = {
  path: string;
  nav?: string;
  permission?: string;
  render: (params: Record<string, string>, query: URLSearchParams) => ComponentChildren;
};

export const screens: Screen[] = [
  { path: "/groups", nav: m.nav.groups, permission: "customers:read", render: (_, q) => <GroupList query={q} /> },
  { path: "/groups/:id", render: (p) => <GroupPage key={p.id} id={p.id!} /> },
  { path: "/locations", nav: m.nav.locations, permission: "customers:read", render: (_, q) => <LocationList query={q} /> },
  { path: "/bulk-update", render: (_, q) => <BulkUpdate query={q} /> },
  { path: "/imports", nav: m.nav.imports, permission: "customers:import", render: () => <ImportUpload /> },
  { path: "/imports/:id", permission: "customers:import", render: (p) => <ImportPage id={p.id!} /> },
  { path: "/dormant", nav: m.nav.dormant, permission: "customers:read", render: () => <DormantCustomers /> },
  { path: "/sms", nav: m.nav.sms, permission: "customers:read", render: (_, q) => <Sms tab={undefined} query={q} /> },
  { path: "/sms/:tab", render: (p, q) => <Sms tab={p.tab} query={q} /> },
  { path: "/jobs", nav: m.nav.jobs, render: (_, q) => <JobList query={q} /> },
  { path: "/jobs/:id", render: (p) => <JobPage key={p.id} id={p.id!} /> },
];
