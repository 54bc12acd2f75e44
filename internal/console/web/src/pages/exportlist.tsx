// Export of the list as it stands: its filters and sort, and the chosen
// columns that the file format carries (the import template's headers,
// so an export imports back). Small lists download at once; a large one
// answers with a job, followed on its page until its file is ready.
import { useState } from "preact/hooks";
import { rawFetch, saveResponse, type ApiError } from "../api";
import { m } from "../messages";
import { navigate } from "../router";
import { ProblemView, asApiError } from "../ui";

/** List column → the export's (import template's) header for it. */
const EXPORT_HEADER: Record<string, string> = {
  code: "code",
  name: "name",
  type: "customer_type",
  kind: "kind",
  email: "email",
  phone: "phone",
  tax_number: "tax_number",
  contact_name: "contact_name",
  city: "billing_city",
  country: "billing_country",
  payment_terms_id: "payment_terms",
  sales_rep_id: "sales_rep_email",
  credit_limit: "credit_limit",
  billing_status: "billing_status",
};

export function exportPath(format: "xlsx" | "csv", params: Record<string, string>, columns: string[]): `/v1/${string}` {
  const q = new URLSearchParams(params);
  q.delete("count");
  q.set("format", format);
  const headers = ["code", ...columns.map((c) => EXPORT_HEADER[c]).filter((h): h is string => !!h && h !== "code")];
  q.set("fields", headers.join(","));
  return `/v1/customers/export?${q}`;
}

export function ExportButtons({ params, columns }: { params: Record<string, string>; columns: string[] }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  async function run(format: "xlsx" | "csv") {
    setBusy(true);
    setError(undefined);
    try {
      const response = await rawFetch(exportPath(format, params, columns));
      if (response.status === 202) {
        const out = (await response.json()) as { job: { id: string } };
        navigate(`/jobs/${out.job.id}`);
        return;
      }
      await saveResponse(response, `customers.${format}`);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <span class="export" role="group" aria-label={m.exportList.title}>
      <button type="button" disabled={busy} onClick={() => run("xlsx")}>
        {m.exportList.title}: {m.exportList.xlsx}
      </button>
      <button type="button" disabled={busy} onClick={() => run("csv")}>
        {m.exportList.csv}
      </button>
      {error ? <ProblemView error={error} /> : null}
    </span>
  );
}
