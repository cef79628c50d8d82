// The JobService methods the emulator implements, on canonical proto3 JSON requests and
// responses, shared by the gRPC and REST front ends. `invoke` applies injected faults and
// records the request log for every call.
import type { EmulatorContext } from "./context.js";
import { ApiError } from "./errors.js";
import type { Transport } from "./faults.js";
import { compileFilter } from "./filter.js";
import { isObject, type Json, type JsonObject } from "./json.js";
import {
  jobName,
  operationName,
  parseJobName,
  parseOperationName,
  parseParent,
} from "./resources.js";
import { newNumericId, type StoredJob } from "./store.js";
import { actAsDenied, isServiceAccountEmail, validateCustomJob } from "./validate.js";

export const IMPLEMENTED = new Set([
  "CreateCustomJob",
  "GetCustomJob",
  "ListCustomJobs",
  "CancelCustomJob",
  "DeleteCustomJob",
  "GetOperation",
]);

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
const OUTPUT_ONLY = [
  "name",
  "state",
  "createTime",
  "startTime",
  "endTime",
  "updateTime",
  "error",
  "webAccessUris",
  "satisfiesPzs",
  "satisfiesPzi",
];

function str(value: Json | undefined): string {
  return typeof value === "string" ? value : "";
}

function snapshot(job: StoredJob): JsonObject {
  return structuredClone(job.json);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class JobService {
  constructor(private readonly ctx: EmulatorContext) {}

  /** Runs one RPC: faults, the method itself, the request log. */
  async invoke(method: string, transport: Transport, request: JsonObject): Promise<JsonObject> {
    const started = Date.now();
    const resource = str(request.name) || str(request.parent);
    let code = 0;
    try {
      const decision = this.ctx.faults.decide(method, transport);
      if (decision.delayMs > 0) await sleep(decision.delayMs);
      if (decision.before) throw decision.before;
      const response = await this.call(method, request);
      if (decision.after) throw decision.after;
      return response;
    } catch (err) {
      code = err instanceof ApiError ? err.code : 13;
      if (!(err instanceof ApiError)) {
        this.ctx.log(`vertex emulator: ${method} failed: ${(err as Error).stack ?? String(err)}`);
        throw new ApiError("INTERNAL", `Internal error encountered: ${(err as Error).message}`);
      }
      throw err;
    } finally {
      this.ctx.requests.add({
        time: new Date(started).toISOString(),
        transport,
        method,
        resource,
        code,
        status: code === 0 ? "OK" : (new ApiError(code, "").status as string),
        durationMs: Date.now() - started,
      });
    }
  }

  private call(method: string, request: JsonObject): Promise<JsonObject> {
    switch (method) {
      case "CreateCustomJob":
        return this.create(request);
      case "GetCustomJob":
        return Promise.resolve(snapshot(this.find(str(request.name))));
      case "ListCustomJobs":
        return Promise.resolve(this.list(request));
      case "CancelCustomJob":
        return Promise.resolve(this.cancel(str(request.name)));
      case "DeleteCustomJob":
        return Promise.resolve(this.delete(str(request.name)));
      case "GetOperation":
        return Promise.resolve(this.getOperation(str(request.name)));
      default:
        return Promise.reject(
          new ApiError(
            "UNIMPLEMENTED",
            `Method ${method} is not implemented by the Vertex AI emulator.`,
          ),
        );
    }
  }

  private checkLocation(location: string): void {
    if (!this.ctx.facts.regions.has(location)) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Location "${location}" is not supported for CustomJobs. Use a Vertex AI training region such as us-central1.`,
      );
    }
  }

  private find(name: string): StoredJob {
    const ref = parseJobName(name);
    this.checkLocation(ref.location);
    const full = jobName(this.ctx.projects.numberOf(ref.project), ref.location, ref.id);
    const job = this.ctx.store.jobs.get(full);
    if (!job) throw new ApiError("NOT_FOUND", `The CustomJob "${name}" does not exist.`);
    return job;
  }

  private async create(request: JsonObject): Promise<JsonObject> {
    const { project, location } = parseParent(str(request.parent));
    this.checkLocation(location);
    if (!isObject(request.customJob)) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        "List of found errors:\t1.Field: custom_job; Message: Required field is not set.\t",
      );
    }
    const input = { ...request.customJob };
    for (const key of OUTPUT_ONLY) delete input[key];
    const jobSpec = validateCustomJob(input, location, this.ctx.facts);

    const account = str(jobSpec.serviceAccount);
    if (account) {
      const allowed = this.ctx.actAs;
      if (!isServiceAccountEmail(account) || (allowed !== null && !allowed.includes(account))) {
        throw actAsDenied(account);
      }
    }
    await this.checkBucket(jobSpec, location);

    const projectNumber = this.ctx.projects.numberOf(project);
    let id = newNumericId();
    while (this.ctx.store.jobs.has(jobName(projectNumber, location, id))) id = newNumericId();
    const json: JsonObject = { name: jobName(projectNumber, location, id), ...input, jobSpec };
    const job: StoredJob = {
      name: String(json.name),
      projectNumber,
      location,
      id,
      seq: this.ctx.store.nextSeq(),
      json,
      outcome: { ...this.ctx.defaultOutcome },
      timer: null,
    };
    this.ctx.lifecycle.created(job, Date.now());
    this.ctx.store.jobs.set(job.name, job);
    this.ctx.log(`vertex emulator: created ${job.name} (${str(json.displayName)})`);
    const answer = snapshot(job);
    this.ctx.lifecycle.kick(job);
    return answer;
  }

  /** FAILED_PRECONDITION when the output bucket is not a regional bucket in `region`. */
  private async checkBucket(jobSpec: JsonObject, region: string): Promise<void> {
    const endpoint = this.ctx.gcsEndpoint;
    const output = isObject(jobSpec.baseOutputDirectory) ? jobSpec.baseOutputDirectory : null;
    const uri = output ? str(output.outputUriPrefix) : "";
    if (!endpoint || !uri) return;
    const bucket = uri.slice("gs://".length).split("/")[0] ?? "";
    const base = endpoint.replace(/\/+$/, "").replace(/\/storage\/v1$/, "");
    let response: Response;
    try {
      response = await fetch(`${base}/storage/v1/b/${encodeURIComponent(bucket)}`);
    } catch (err) {
      throw new ApiError(
        "INTERNAL",
        `The Vertex AI emulator could not read bucket gs://${bucket} from the GCS emulator at ${base}: ${(err as Error).message}`,
      );
    }
    if (response.status === 404) {
      await response.body?.cancel();
      throw new ApiError(
        "FAILED_PRECONDITION",
        `The Cloud Storage bucket of \`${uri}\` does not exist.`,
      );
    }
    if (!response.ok) {
      const text = await response.text();
      throw new ApiError(
        "INTERNAL",
        `The GCS emulator answered ${response.status} for bucket gs://${bucket}: ${text.slice(0, 200)}`,
      );
    }
    const metadata = (await response.json()) as { location?: string };
    const location = String(metadata.location ?? "").toLowerCase();
    if (location !== region.toLowerCase()) {
      throw new ApiError(
        "FAILED_PRECONDITION",
        `The Cloud Storage bucket of \`${uri}\` is in location \`${location}\`. It must be in the same regional location as the service location \`${region}\`.`,
      );
    }
  }

  private list(request: JsonObject): JsonObject {
    const parent = str(request.parent);
    const { project, location } = parseParent(parent);
    this.checkLocation(location);
    const projectNumber = this.ctx.projects.numberOf(project);
    const filterText = str(request.filter);
    const matches = compileFilter(filterText);
    const pageSizeRaw = typeof request.pageSize === "number" ? request.pageSize : 0;
    if (pageSizeRaw < 0) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Invalid page_size ${pageSizeRaw}: it must not be negative.`,
      );
    }
    const pageSize = Math.min(pageSizeRaw || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const scope = `${projectNumber}/${location}|${filterText}`;
    let cursor: { c: string; i: number } | null = null;
    const token = str(request.pageToken);
    if (token) {
      cursor = decodeToken(token, scope);
      if (!cursor) throw new ApiError("INVALID_ARGUMENT", "The page token is invalid.");
    }
    const jobs = [...this.ctx.store.jobs.values()]
      .filter((j) => j.projectNumber === projectNumber && j.location === location)
      .sort(newestFirst)
      .filter((j) => !cursor || isAfter(j, cursor))
      .filter((j) => matches(j.json));
    const page = jobs.slice(0, pageSize);
    const response: JsonObject = { customJobs: page.map(snapshot) };
    const last = page[page.length - 1];
    if (jobs.length > pageSize && last) {
      response.nextPageToken = encodeToken({ c: str(last.json.createTime), i: last.seq }, scope);
    }
    return response;
  }

  private cancel(name: string): JsonObject {
    const job = this.find(name);
    if (this.ctx.lifecycle.isFinal(job)) {
      throw new ApiError(
        "FAILED_PRECONDITION",
        `Cannot cancel CustomJob "${job.name}" because it is in state ${str(job.json.state)}.`,
      );
    }
    this.ctx.lifecycle.cancel(job, Date.now());
    this.ctx.lifecycle.kick(job);
    return {};
  }

  private delete(name: string): JsonObject {
    const job = this.find(name);
    if (!this.ctx.lifecycle.isFinal(job)) {
      throw new ApiError(
        "FAILED_PRECONDITION",
        `CustomJob "${job.name}" is in state ${str(job.json.state)} and cannot be deleted. Cancel it and wait until it is in a final state.`,
      );
    }
    this.ctx.lifecycle.clearTimer(job);
    this.ctx.store.jobs.delete(job.name);
    const now = new Date().toISOString();
    const opName = operationName(job.projectNumber, job.location, newNumericId());
    const metadata = {
      "@type": "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata",
      genericMetadata: { createTime: now, updateTime: now },
    };
    const pending: JsonObject = { name: opName, metadata };
    const done: JsonObject = {
      name: opName,
      metadata,
      done: true,
      response: { "@type": "type.googleapis.com/google.protobuf.Empty" },
    };
    this.ctx.store.operations.set(opName, { name: opName, pending, done, polled: false });
    this.ctx.log(`vertex emulator: deleted ${job.name}`);
    return structuredClone(pending);
  }

  private getOperation(name: string): JsonObject {
    const ref = parseOperationName(name);
    const full = operationName(this.ctx.projects.numberOf(ref.project), ref.location, ref.id);
    const op = this.ctx.store.operations.get(full);
    if (!op) throw new ApiError("NOT_FOUND", `Operation "${name}" not found.`);
    op.polled = true;
    return structuredClone(op.done);
  }
}

function newestFirst(a: StoredJob, b: StoredJob): number {
  const ta = str(a.json.createTime);
  const tb = str(b.json.createTime);
  if (ta !== tb) return ta < tb ? 1 : -1;
  return b.seq - a.seq;
}

function isAfter(job: StoredJob, cursor: { c: string; i: number }): boolean {
  const t = str(job.json.createTime);
  if (t !== cursor.c) return t < cursor.c;
  return job.seq < cursor.i;
}

function encodeToken(cursor: { c: string; i: number }, scope: string): string {
  return Buffer.from(JSON.stringify({ ...cursor, s: scope })).toString("base64url");
}

function decodeToken(token: string, scope: string): { c: string; i: number } | null {
  try {
    const value = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      c?: unknown;
      i?: unknown;
      s?: unknown;
    };
    if (typeof value.c !== "string" || typeof value.i !== "number" || value.s !== scope)
      return null;
    return { c: value.c, i: value.i };
  } catch {
    return null;
  }
}
