// The few Vertex AI JobService calls the product makes, over the official client.
// Thin: each call maps its errors through the status table and returns plain data.
import type { v1 } from "@google-cloud/aiplatform";
import { DispatchError } from "../errors.js";
import { vertexError } from "./errors.js";

/**
 * The JobService methods the product calls (the CustomJob ones). The function bundles carry a
 * descriptor with these methods only (scripts/service_descriptors.mjs; a test checks the two
 * lists agree), so `JobServiceClient` below lets the product call nothing else.
 */
export const JOB_SERVICE_METHODS = [
  "createCustomJob",
  "getCustomJob",
  "listCustomJobs",
  "deleteCustomJob",
  "cancelCustomJob",
] as const;

export type JobServiceClient = Pick<
  InstanceType<typeof v1.JobServiceClient>,
  (typeof JOB_SERVICE_METHODS)[number] | "initialize" | "close"
>;

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
  /**
   * CreateCustomJob, never retried by the client (a retry could create a second job).
   * `timeoutMs` is read once the client is ready, just before the request goes out, so a
   * caller can bound the create by a deadline (its lease) that passed while it waited; a
   * timeout under 1 ms sends nothing and throws `create_not_sent` (retryable, not ambiguous).
   */
  create(
    parent: string,
    customJob: Record<string, unknown>,
    timeoutMs: () => number,
  ): Promise<JobSummary>;
  /**
   * Makes the location's client ready (its gRPC stubs), so a create's lease is not spent on
   * a cold client: on a loaded machine the first initialisation can take seconds.
   */
  ready(parent: string): Promise<void>;
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

/** A create given no time to run: nothing was sent, so no job can exist because of it. */
function createNotSent(timeoutMs: number): DispatchError {
  return new DispatchError(
    "launch_busy",
    `CreateCustomJob not sent: the lease left it ${Math.max(0, Math.round(timeoutMs))} ms; the next holder creates the job`,
  );
}

export function vertexJobs(clientFor: JobServiceFor): VertexJobs {
  return {
    async create(parent, customJob, timeoutMs) {
      const client = clientFor(locationOf(parent));
      try {
        await client.initialize(); // the stubs first: the timeout is what is left after
      } catch (err) {
        throw vertexError(err, "CreateCustomJob");
      }
      const timeout = timeoutMs();
      if (timeout < 1) throw createNotSent(timeout);
      try {
        const [job] = await client.createCustomJob({ parent, customJob }, { timeout, retry: null });
        return summarize(job as Record<string, unknown>);
      } catch (err) {
        throw vertexError(err, "CreateCustomJob");
      }
    },
    async ready(parent) {
      try {
        await clientFor(locationOf(parent)).initialize();
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
