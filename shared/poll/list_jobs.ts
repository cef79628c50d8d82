// The jobs of every watched launch, in a bounded number of Vertex calls (SPEC §7): one
// ListCustomJobs page per POLL_PAGE_SIZE jobs not yet final, plus one label-filtered list
// per 50 jobs that became final since the last tick. Never one GetCustomJob per job.
import type { ActiveEntry } from "../storage/active_index.js";
import type { JobSummary, VertexJobs } from "../vertex/jobs.js";
import { FINAL_VERTEX_STATES } from "./states.js";

const FINAL_LOOKUP_BATCH = 50;

export async function listJobs(
  watched: ActiveEntry[],
  deps: { jobs: VertexJobs; pageSize: number },
  counted: { vertexCalls: number },
): Promise<Map<string, JobSummary>> {
  const byParent = new Map<string, ActiveEntry[]>();
  for (const e of watched) {
    const parent = (e.job_name ?? "").replace(/\/customJobs\/[^/]+$/, "");
    byParent.set(parent, [...(byParent.get(parent) ?? []), e]);
  }
  const jobs = new Map<string, JobSummary>();
  /** Every page of one filtered ListCustomJobs into `jobs`, counting the calls. */
  const listAll = async (parent: string, filter: string) => {
    let pageToken: string | undefined;
    do {
      const page = await deps.jobs.listPage(
        parent,
        `labels.managed-by="vertex-dispatch" AND ${filter}`,
        deps.pageSize,
        pageToken,
      );
      counted.vertexCalls++;
      for (const j of page.jobs) jobs.set(j.name, j);
      pageToken = page.nextPageToken;
    } while (pageToken);
  };
  const notFinal = FINAL_VERTEX_STATES.map((s) => `state!="${s}"`).join(" AND ");
  for (const [parent, group] of byParent) {
    await listAll(parent, notFinal);
    // The rest ended since we last looked (or are not listed yet): find them by their label.
    const missing = group.filter((e) => !jobs.has(e.job_name ?? ""));
    for (let i = 0; i < missing.length; i += FINAL_LOOKUP_BATCH) {
      const batch = missing.slice(i, i + FINAL_LOOKUP_BATCH);
      await listAll(
        parent,
        `(${batch.map((e) => `labels.launch-id="${e.job_label}"`).join(" OR ")})`,
      );
    }
  }
  return jobs;
}
