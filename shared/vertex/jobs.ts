// The few Vertex AI JobService calls the product makes, over the official client.
// Thin: each call maps its errors through the status table and returns plain data.
import type { v1 } from "@google-cloud/aiplatform";
import { vertexError } from "./errors.js";

export type JobServiceClient = InstanceType<typeof v1.JobServiceClient>;

export interface JobSummary {
  name: string;
  state: string;
  labels: Record<string, string>;
  error: { code: number; message: string } | null;
  createTime: string | null;
  /** When the job first ran (null: it never started). */
  startTime: string | null;
}

export interface VertexJobs {
  /** CreateCustomJob, never retried by the client (a retry could create a second job). */
  create(
    parent: string,
    customJob: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<JobSummary>;
  /** The job carrying this launch-id label, or null. */
  findByLaunchId(parent: string, launchId: string): Promise<JobSummary | null>;
  cancel(name: string): Promise<void>;
  /** One page of ListCustomJobs. */
  listPage(
    parent: string,
    filter: string,
    pageSize: number,
    pageToken: string | undefined,
  ): Promise<{ jobs: JobSummary[]; nextPageToken: string | undefined }>;
}

const STATE_NAMES = [
  "JOB_STATE_UNSPECIFIED",
  "JOB_STATE_QUEUED",
  "JOB_STATE_PENDING",
  "JOB_STATE_RUNNING",
  "JOB_STATE_SUCCEEDED",
  "JOB_STATE_FAILED",
  "JOB_STATE_CANCELLING",
  "JOB_STATE_CANCELLED",
  "JOB_STATE_PAUSED",
  "JOB_STATE_EXPIRED",
  "JOB_STATE_UPDATING",
  "JOB_STATE_PARTIALLY_SUCCEEDED",
];

function timestamp(t: unknown): string | null {
  if (!t || typeof t !== "object") return null;
  const { seconds, nanos } = t as { seconds?: unknown; nanos?: unknown };
  if (seconds === undefined || seconds === null) return null;
  const ms = Number(seconds) * 1000 + Math.floor(Number(nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

export function summarize(job: Record<string, unknown>): JobSummary {
  const state = job.state;
  const error = job.error as { code?: number; message?: string } | null | undefined;
  return {
    name: String(job.name ?? ""),
    state:
      typeof state === "number"
        ? (STATE_NAMES[state] ?? "JOB_STATE_UNSPECIFIED")
        : String(state ?? "JOB_STATE_UNSPECIFIED"),
    labels: (job.labels as Record<string, string> | undefined) ?? {},
    error:
      error && (error.code || error.message)
        ? { code: error.code ?? 0, message: error.message ?? "" }
        : null,
    createTime: timestamp(job.createTime),
    startTime: timestamp(job.startTime),
  };
}

/** The client for a location (Vertex serves each region on its own endpoint). */
export type JobServiceFor = (location: string) => JobServiceClient;

/** The location of `projects/P/locations/L[/...]`. */
export function locationOf(resource: string): string {
  return /\/locations\/([^/]+)/.exec(resource)?.[1] ?? "";
}

export function vertexJobs(clientFor: JobServiceFor): VertexJobs {
  return {
    async create(parent, customJob, timeoutMs) {
      try {
        const [job] = await clientFor(locationOf(parent)).createCustomJob(
          { parent, customJob },
          { timeout: timeoutMs, retry: null },
        );
        return summarize(job as Record<string, unknown>);
      } catch (err) {
        throw vertexError(err, "CreateCustomJob");
      }
    },
    async findByLaunchId(parent, launchId) {
      const page = await this.listPage(parent, `labels.launch-id="${launchId}"`, 10, undefined);
      return page.jobs[0] ?? null;
    },
    async cancel(name) {
      try {
        await clientFor(locationOf(name)).cancelCustomJob({ name });
      } catch (err) {
        throw vertexError(err, "CancelCustomJob");
      }
    },
    async listPage(parent, filter, pageSize, pageToken) {
      try {
        const [jobs, , response] = await clientFor(locationOf(parent)).listCustomJobs(
          { parent, filter, pageSize, pageToken: pageToken ?? "" },
          { autoPaginate: false },
        );
        const next = (response as { nextPageToken?: string } | undefined)?.nextPageToken;
        return {
          jobs: jobs.map((j) => summarize(j as Record<string, unknown>)),
          nextPageToken: next ? next : undefined,
        };
      } catch (err) {
        throw vertexError(err, "ListCustomJobs");
      }
    },
  };
}
