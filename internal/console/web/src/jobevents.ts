// A job's progress as the API streams it (GET /v1/jobs/{id}/events,
// server-sent events). EventSource cannot send the bearer token, so the
// stream is read with fetch and parsed here: `progress` events while the
// job runs, then one `finished` event carrying the job. When the stream
// breaks (a restart, a proxy's timeout) it is opened again after a pause.
import { rawFetch, type Job } from "./api";

export type Progress = { processed: number; total: number | null; state: string };

export function followJob(
  id: string,
  onProgress: (p: Progress) => void,
  onFinished: (job: Job) => void,
  onError: (err: unknown) => void,
): () => void {
  const abort = new AbortController();
  let finished = false;

  async function once(): Promise<void> {
    const response = await rawFetch(`/v1/jobs/${encodeURIComponent(id)}/events`, {
      headers: { Accept: "text/event-stream" },
      signal: abort.signal,
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (!data.length) continue; // a heartbeat
        const payload: unknown = JSON.parse(data.join("\n"));
        if (event === "progress") onProgress(payload as Progress);
        if (event === "finished") {
          finished = true;
          onFinished(payload as Job);
          return;
        }
      }
    }
  }

  void (async () => {
    while (!finished && !abort.signal.aborted) {
      try {
        await once();
      } catch (err) {
        if (abort.signal.aborted) return;
        onError(err);
      }
      if (!finished && !abort.signal.aborted) await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return () => abort.abort();
}
