// The emulator's control operations (the in-process handle). The HTTP control API in
// control_http.ts exposes the same operations under /emulator/v1/.
import type { EmulatorContext } from "./context.js";
import { parseCode } from "./errors.js";
import type { FaultInput, FaultRule } from "./faults.js";
import type { JsonObject } from "./json.js";
import { type ClockConfig, OUTCOME_KINDS } from "./lifecycle.js";
import type { LoggedRequest, MethodCounts } from "./request_log.js";
import { jobName, parseJobName } from "./resources.js";
import type { Outcome, OutcomeKind, StoredJob } from "./store.js";

export class ControlError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

export interface OutcomeInput {
  /** Job name (projects/.../customJobs/ID, project ID or number) or bare ID; absent = the
   *  default outcome of jobs created from now on. */
  job?: string;
  outcome: OutcomeKind;
  /** gRPC code of the job's error (number or name). */
  code?: number | string;
  message?: string;
  /** End the job now instead of when the clock gets there. */
  immediate?: boolean;
}

export interface AdvanceInput {
  /** One job (name or ID); absent = every live job. */
  job?: string;
  /** How many steps (default 1). */
  steps?: number;
}

export interface JobSummary {
  name: string;
  displayName: string;
  state: string;
  outcome: Outcome;
  labels: JsonObject;
}

export interface VertexControl {
  setOutcome(input: OutcomeInput): void;
  advance(input?: AdvanceInput): JobSummary[];
  getClock(): ClockConfig;
  setClock(clock: ClockConfig): void;
  addFault(input: FaultInput): FaultRule;
  listFaults(): FaultRule[];
  removeFault(id: number): boolean;
  clearFaults(): void;
  getActAs(): string[] | null;
  setActAs(accounts: string[] | null): void;
  requests(): { requests: LoggedRequest[]; counts: Record<string, MethodCounts> };
  clearRequests(): void;
  jobs(): JobSummary[];
  /** The full stored job (canonical JSON), by name or ID. */
  job(nameOrId: string): JsonObject;
  reset(): void;
}

function summary(job: StoredJob): JobSummary {
  return {
    name: job.name,
    displayName: String(job.json.displayName ?? ""),
    state: String(job.json.state ?? ""),
    outcome: { ...job.outcome },
    labels: (job.json.labels as JsonObject | undefined) ?? {},
  };
}

function checkClock(clock: ClockConfig): ClockConfig {
  if (!clock || !["manual", "instant", "timed"].includes(clock.mode)) {
    throw new ControlError(400, 'clock.mode must be "manual", "instant" or "timed"');
  }
  if (clock.mode === "timed") {
    for (const key of [
      "queuedSeconds",
      "pendingSeconds",
      "runningSeconds",
      "cancellingSeconds",
    ] as const) {
      const v = clock[key];
      if (v !== undefined && !(typeof v === "number" && v >= 0)) {
        throw new ControlError(400, `clock.${key} must be a number of seconds >= 0`);
      }
    }
  }
  return clock;
}

export function createControl(ctx: EmulatorContext): VertexControl {
  const findJob = (nameOrId: string) => findStoredJob(ctx, nameOrId);
  return {
    setOutcome: (input) => setOutcome(ctx, findJob, input),
    advance: (input = {}) => advance(ctx, findJob, input),
    getClock: () => ctx.lifecycle.getClock(),
    setClock(clock) {
      ctx.lifecycle.setClock(checkClock(clock), ctx.store.jobs.values());
    },
    addFault(input) {
      try {
        return ctx.faults.add(input);
      } catch (err) {
        throw new ControlError(400, (err as Error).message);
      }
    },
    listFaults: () => ctx.faults.list(),
    removeFault: (id) => ctx.faults.remove(id),
    clearFaults: () => ctx.faults.clear(),
    getActAs: () => (ctx.actAs ? [...ctx.actAs] : null),
    setActAs: (accounts) => setActAs(ctx, accounts),
    requests: () => ({ requests: ctx.requests.list(), counts: ctx.requests.counts() }),
    clearRequests: () => ctx.requests.clear(),
    jobs: () => [...ctx.store.jobs.values()].map(summary),
    job: (nameOrId) => structuredClone(findJob(nameOrId).json),
    reset: () => reset(ctx),
  };
}

/** A stored job by bare numeric ID or full name (project ID or number); 404 otherwise. */
function findStoredJob(ctx: EmulatorContext, nameOrId: string): StoredJob {
  let job: StoredJob | undefined;
  if (/^\d+$/.test(nameOrId)) {
    job = [...ctx.store.jobs.values()].find((j) => j.id === nameOrId);
  } else {
    try {
      const ref = parseJobName(nameOrId);
      job = ctx.store.jobs.get(jobName(ctx.projects.numberOf(ref.project), ref.location, ref.id));
    } catch {
      job = undefined;
    }
  }
  if (!job) throw new ControlError(404, `no such CustomJob: ${nameOrId}`);
  return job;
}

type FindJob = (nameOrId: string) => StoredJob;

/** Sets one job's outcome (optionally ending it now), or the default of jobs to come. */
function setOutcome(ctx: EmulatorContext, findJob: FindJob, input: OutcomeInput): void {
  if (!OUTCOME_KINDS.includes(input.outcome)) {
    throw new ControlError(400, `outcome must be one of ${OUTCOME_KINDS.join(", ")}`);
  }
  const outcome: Outcome = { kind: input.outcome };
  if (input.code !== undefined) {
    const code = parseCode(input.code);
    if (code === null) throw new ControlError(400, `not a gRPC code: ${String(input.code)}`);
    outcome.code = code;
  }
  if (input.message !== undefined) outcome.message = String(input.message);
  if (input.job === undefined) {
    ctx.defaultOutcome = outcome;
    return;
  }
  const job = findJob(input.job);
  ctx.lifecycle.setOutcome(job, outcome);
  if (input.immediate) ctx.lifecycle.finishNow(job);
}

/** Moves one job (or every job) up to `steps` lifecycle steps; a job stops at its end. */
function advance(ctx: EmulatorContext, findJob: FindJob, input: AdvanceInput): JobSummary[] {
  const steps = input.steps ?? 1;
  if (!(Number.isInteger(steps) && steps > 0)) {
    throw new ControlError(400, "steps must be a positive integer");
  }
  const jobs = input.job ? [findJob(input.job)] : [...ctx.store.jobs.values()];
  for (const job of jobs) {
    for (let i = 0; i < steps; i++) {
      if (!ctx.lifecycle.step(job)) break;
    }
  }
  return jobs.map(summary);
}

function setActAs(ctx: EmulatorContext, accounts: string[] | null): void {
  if (
    accounts !== null &&
    !(Array.isArray(accounts) && accounts.every((a) => typeof a === "string"))
  ) {
    throw new ControlError(400, "accounts must be a list of service account e-mails, or null");
  }
  ctx.actAs = accounts ? [...accounts] : null;
}

/** Back to the state the emulator started in: no jobs, faults or requests; initial clock. */
function reset(ctx: EmulatorContext): void {
  ctx.store.clear();
  ctx.faults.clear();
  ctx.requests.clear();
  ctx.actAs = ctx.initial.actAs ? [...ctx.initial.actAs] : null;
  ctx.defaultOutcome = { kind: "succeed" };
  ctx.lifecycle.setClock(ctx.initial.clock, []);
}
