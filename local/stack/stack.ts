// The whole system on one machine (SPEC §9): Google's Pub/Sub emulator, our GCS and
// Vertex emulators, and the functions as separate Functions Framework processes, wired
// with push subscriptions exactly like production. Used by `npm start` and by the
// integration tests (which ask for free ports instead of the fixed ones).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import { type GcsEmulator, startGcsEmulator } from "../gcs/index.js";
import {
  createTopology,
  emulatorClient,
  type PubsubEmulator,
  pushEndpoint,
  SUBSCRIPTIONS,
  startPubsubEmulator,
  TOPICS,
} from "../pubsub/index.js";
import { type ClockConfig, startVertexEmulator, type VertexEmulator } from "../vertex/index.js";
import { LOCAL_WANDB_API_KEY, startWandbEmulator, type WandbEmulator } from "../wandb/index.js";
import {
  DEMO_JOB_SERVICE_ACCOUNT,
  DEMO_QUEUE,
  DEMO_STAGING_BUCKET,
  DEMO_WANDB_ENTITY,
  DEMO_WANDB_PROJECT,
  DEMO_WANDB_QUEUE,
  DEMO_WANDB_QUEUE_CONFIG,
  demoQueueYaml,
  demoWandbQueueConfig,
  demoWandbQueueYaml,
} from "./demo.js";
import { type FunctionEnvInput, type FunctionEnvs, functionEnvironments } from "./function_env.js";
import { type LocalFunction, startFunction } from "./functions.js";
import { type StatusEventJson, type StatusReader, startStatusReader } from "./status_reader.js";

export type Env = Record<string, string | undefined>;

export type { StatusEventJson } from "./status_reader.js";

export interface StackOptions {
  /** The user's environment: variables set there win over the local defaults. */
  env: Env;
  /** Fixed SPEC §9 ports (npm start), or free ports everywhere (tests). */
  ports: "fixed" | "free";
  vertexClock?: ClockConfig;
  /** Which functions to run (default all three). */
  functions?: Array<"dispatch" | "poll" | "ingest">;
  /** Publish a tick to launch-poll this often, as Cloud Scheduler does (0: never). */
  pollIntervalMs?: number;
  /** Extra variables for the functions (tests shorten leases and TTLs). */
  functionEnv?: Env;
  /**
   * Push retry backoff of the dispatch subscription, in seconds; default "none": no retry
   * policy, because Google's emulator stops redelivering for good after many nacked pushes
   * when a subscription has one (local/pubsub/topology.ts). Terraform sets one in production.
   */
  retry?: { minimumBackoffSeconds: number; maximumBackoffSeconds: number } | "none";
  maxDeliveryAttempts?: number;
  /** Progress lines of the stack itself. */
  log?: (line: string) => void;
  /** Lines the functions print (their JSON logs). */
  functionLog?: (fn: string, line: string) => void;
  /** How long the W&B emulator leases a popped item without an ack (default 60 s, as W&B). */
  wandbLeaseSeconds?: number;
}

export interface Stack {
  project: string;
  region: string;
  /** The environment the functions run with; also what CLI commands need. */
  env: Record<string, string>;
  pubsubEmulator: PubsubEmulator;
  gcs: GcsEmulator;
  vertex: VertexEmulator;
  /** The W&B API emulator, with the demo run queue (WANDB_QUEUES maps it to "wandb-demo"). */
  wandb: WandbEmulator;
  pubsub: PubSub;
  storage: Storage;
  functions: Map<string, LocalFunction>;
  /** The ingest function's URL and bearer token, when it runs. */
  webhook: { url: string; token: string; signingSecret: string | undefined } | undefined;
  /** Every status event read so far, in arrival order. */
  events: StatusEventJson[];
  /** Waits for the first event (seen or still to come) matching `match`. */
  waitForEvent(
    match: (e: StatusEventJson) => boolean,
    timeoutMs?: number,
  ): Promise<StatusEventJson>;
  publishLaunch(body: unknown, attributes?: Record<string, string>): Promise<string>;
  /** Kills a function (a crash) and starts it again on the same port. */
  restartFunction(name: string, how?: "kill" | "stop"): Promise<void>;
  close(): Promise<void>;
}

const SOURCES: Record<string, string> = {
  dispatch: "functions/dispatch/index.ts",
  poll: "functions/poll/index.ts",
  ingest: "functions/ingest/index.ts",
};
const FUNCTION_PORT_VARS: Record<string, [string, number]> = {
  dispatch: ["DISPATCH_PORT", 8081],
  poll: ["POLL_PORT", 8082],
  ingest: ["INGEST_PORT", 8083],
};

function hostPort(value: string | undefined, fallback: number): number {
  if (!value) return fallback;
  const m = /:(\d+)\/?$/.exec(value);
  return m ? Number(m[1]) : fallback;
}

/**
 * Starts the whole system, step by step; a failing step closes what the earlier ones
 * started. Stack.close() stops everything in the reverse order it was started.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? (() => {});
  // This process talks only to emulators: no GCE metadata server to probe for.
  process.env.METADATA_SERVER_DETECTION ??= "none";
  const names = stackNames(options.env);
  const cleanup = new Cleanup();
  try {
    const emulators = await startEmulators(options, names, cleanup, log);
    const storage = new Storage({ projectId: names.project, apiEndpoint: emulators.gcs.url });
    await seedBucketsAndQueues(storage, names, log);
    const envs = functionEnvironments(functionEnvInput(options, names, emulators));
    const runner = functionRunner(options, envs);
    await startFunctions(options, runner, cleanup, log);
    const pubsub = emulatorClient(emulators.pubsubEmulator.host, names.project);
    cleanup.push(() => pubsub.close());
    await createPushTopology(pubsub, options, names.project, runner.functions, log);
    startPollTicks(pubsub, options, runner.functions.has("poll"), cleanup, log);
    const status = startStatusReader(pubsub);
    cleanup.push(() => status.stop());
    return assembleStack({ names, emulators, storage, envs, runner, pubsub, status, cleanup });
  } catch (err) {
    await cleanup.closeAll();
    throw err;
  }
}

/** The project, region, buckets and queue folder: the user's environment, else local defaults. */
interface StackNames {
  project: string;
  region: string;
  stateBucket: string;
  configBucket: string;
  /** Queue configs go here when set, else to gs://configBucket/queues/. */
  queueDir: string | undefined;
}

function stackNames(env: Env): StackNames {
  return {
    project: env.GOOGLE_CLOUD_PROJECT || "local-project",
    region: env.VERTEX_REGION || "us-central1",
    stateBucket: env.STATE_BUCKET || "local-state",
    configBucket: env.CONFIG_BUCKET || "local-config",
    queueDir: env.QUEUE_CONFIG_DIR || undefined,
  };
}

/** What to stop, run in the reverse order of push(); a failing step does not stop the rest. */
class Cleanup {
  private readonly steps: Array<() => Promise<void>> = [];

  push(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  readonly closeAll = async (): Promise<void> => {
    for (const fn of this.steps.reverse()) await fn().catch(() => {});
  };
}

interface Emulators {
  pubsubEmulator: PubsubEmulator;
  gcs: GcsEmulator;
  vertex: VertexEmulator;
  wandb: WandbEmulator;
}

/** Google's Pub/Sub emulator, then our GCS, Vertex and W&B emulators (SPEC §9 ports when fixed). */
async function startEmulators(
  options: StackOptions,
  names: StackNames,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<Emulators> {
  const env = options.env;
  const fixed = options.ports === "fixed";
  log("starting the Pub/Sub emulator (gcloud beta emulators pubsub start)...");
  const pubsubEmulator = await startPubsubEmulator({
    projectId: names.project,
    port: fixed ? hostPort(env.PUBSUB_EMULATOR_HOST, 8085) : 0,
  });
  cleanup.push(() => pubsubEmulator.close());
  log(`  Pub/Sub emulator on ${pubsubEmulator.host}`);

  const gcs = await startGcsEmulator({ port: fixed ? hostPort(env.GCS_ENDPOINT, 9023) : 0 });
  cleanup.push(() => gcs.close());
  log(`  GCS emulator on ${gcs.url}`);

  const vertex = await startVertexEmulator({
    grpcPort: fixed ? hostPort(env.VERTEX_ENDPOINT, 9010) : 0,
    restPort: fixed ? hostPort(env.VERTEX_REST_ENDPOINT, 9011) : 0,
    gcsEndpoint: gcs.url,
    actAs: [DEMO_JOB_SERVICE_ACCOUNT, ...(env.LOCAL_ACT_AS ?? "").split(",").filter(Boolean)],
    ...(options.vertexClock ? { clock: options.vertexClock } : {}),
  });
  cleanup.push(() => vertex.close());
  log(`  Vertex emulator on ${vertex.grpcAddress} (gRPC) and ${vertex.restUrl} (REST)`);

  const wandb = await startWandbLocal(env, options, fixed);
  cleanup.push(() => wandb.close());
  log(
    `  W&B API emulator on ${wandb.url} (run queue ${DEMO_WANDB_ENTITY}/${DEMO_WANDB_PROJECT}/${DEMO_WANDB_QUEUE})`,
  );
  return { pubsubEmulator, gcs, vertex, wandb };
}

/** The state, config and demo staging buckets (in the region), and the two demo queue configs. */
async function seedBucketsAndQueues(
  storage: Storage,
  names: StackNames,
  log: (line: string) => void,
): Promise<void> {
  const { region, stateBucket, configBucket, queueDir } = names;
  for (const bucket of [stateBucket, configBucket, DEMO_STAGING_BUCKET]) {
    const [exists] = await storage.bucket(bucket).exists();
    if (!exists) await storage.createBucket(bucket, { location: region });
  }
  const demoQueues: Array<[string, string]> = [
    [DEMO_QUEUE, demoQueueYaml(region)],
    [DEMO_WANDB_QUEUE_CONFIG, demoWandbQueueYaml(region)],
  ];
  if (queueDir) await mkdir(queueDir, { recursive: true });
  for (const [name, yaml] of demoQueues) {
    if (queueDir) await writeFile(join(queueDir, `${name}.yaml`), yaml);
    else
      await storage
        .bucket(configBucket)
        .file(`queues/${name}.yaml`)
        .save(yaml, { resumable: false });
  }
  log(
    `  seeded buckets gs://${stateBucket}, gs://${configBucket}, gs://${DEMO_STAGING_BUCKET} (${region}) and queues "${DEMO_QUEUE}", "${DEMO_WANDB_QUEUE_CONFIG}"`,
  );
}

/** What the functions' environments are made of: the user's and test's, names, endpoints. */
function functionEnvInput(
  options: StackOptions,
  names: StackNames,
  emulators: Emulators,
): FunctionEnvInput {
  return {
    ...names,
    env: options.env,
    functionEnv: options.functionEnv,
    pubsubHost: emulators.pubsubEmulator.host,
    gcsUrl: emulators.gcs.url,
    vertexGrpc: emulators.vertex.grpcAddress,
    vertexRest: emulators.vertex.restUrl,
    wandbKey: emulators.wandb.apiKey,
    wandbUrl: emulators.wandb.url,
  };
}

/** The running functions by name, and how to (re)start one on a port. */
interface FunctionRunner {
  functions: Map<string, LocalFunction>;
  launch(name: string, port: number): Promise<LocalFunction>;
}

function functionRunner(options: StackOptions, envs: FunctionEnvs): FunctionRunner {
  const functions = new Map<string, LocalFunction>();
  const launch = async (name: string, port: number) => {
    const source = SOURCES[name];
    if (!source) throw new Error(`unknown function ${name}`);
    const fn = await startFunction({
      name,
      source,
      port,
      env: envs.of(name),
      signatureType: name === "ingest" ? "http" : "cloudevent",
      onLine: (line) => options.functionLog?.(name, line),
    });
    functions.set(name, fn);
    return fn;
  };
  return { functions, launch };
}

/** Each function asked for (default all three), one after the other, on its port. */
async function startFunctions(
  options: StackOptions,
  runner: FunctionRunner,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<void> {
  cleanup.push(async () => {
    for (const fn of runner.functions.values()) await fn.stop();
  });
  for (const name of options.functions ?? ["dispatch", "poll", "ingest"]) {
    const [portVar, defaultPort] = FUNCTION_PORT_VARS[name] ?? ["", 0];
    const port = options.ports === "fixed" ? Number(options.env[portVar] || defaultPort) : 0;
    const fn = await runner.launch(name, port);
    log(`  function ${name} on ${fn.url} (Functions Framework)`);
  }
}

/** The topics and subscriptions, pushing to dispatch and poll where they run. */
async function createPushTopology(
  pubsub: PubSub,
  options: StackOptions,
  project: string,
  functions: Map<string, LocalFunction>,
  log: (line: string) => void,
): Promise<void> {
  const dispatch = functions.get("dispatch");
  const poll = functions.get("poll");
  await createTopology(pubsub, {
    pushEndpoints: {
      ...(dispatch ? { dispatch: pushEndpoint(dispatch.url, project, TOPICS.jobs) } : {}),
      ...(poll ? { poll: pushEndpoint(poll.url, project, TOPICS.poll) } : {}),
    },
    retry: options.retry ?? "none",
    ...(options.maxDeliveryAttempts ? { maxDeliveryAttempts: options.maxDeliveryAttempts } : {}),
  });
  log(
    `  topics ${Object.values(TOPICS).join(", ")}; push subscriptions ${SUBSCRIPTIONS.dispatch}, ${SUBSCRIPTIONS.poll}`,
  );
}

/** Cloud Scheduler's part: a tick on launch-poll every few seconds (when poll runs). */
function startPollTicks(
  pubsub: PubSub,
  options: StackOptions,
  pollRuns: boolean,
  cleanup: Cleanup,
  log: (line: string) => void,
): void {
  const interval = options.pollIntervalMs ?? 3000;
  if (!pollRuns || interval <= 0) return;
  const timer = setInterval(() => {
    void pubsub
      .topic(TOPICS.poll)
      .publishMessage({ json: { tick: new Date().toISOString() } })
      .catch(() => {});
  }, interval);
  cleanup.push(async () => clearInterval(timer));
  log(`  a poll tick every ${interval / 1000} s (Cloud Scheduler: every minute in production)`);
}

/** The handle startStack returns, over what the steps started. */
function assembleStack(parts: {
  names: StackNames;
  emulators: Emulators;
  storage: Storage;
  envs: FunctionEnvs;
  runner: FunctionRunner;
  pubsub: PubSub;
  status: StatusReader;
  cleanup: Cleanup;
}): Stack {
  const { names, emulators, envs, runner, pubsub, status } = parts;
  const { functions } = runner;
  const ingest = functions.get("ingest");
  return {
    project: names.project,
    region: names.region,
    env: envs.shared,
    ...emulators,
    pubsub,
    storage: parts.storage,
    functions,
    webhook: ingest
      ? { url: ingest.url, token: envs.webhookToken, signingSecret: envs.signingSecret }
      : undefined,
    events: status.events,
    waitForEvent: status.waitForEvent,
    async publishLaunch(body, attributes = {}) {
      const data = Buffer.isBuffer(body)
        ? body
        : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
      return pubsub.topic(TOPICS.jobs).publishMessage({ data, attributes });
    },
    async restartFunction(name, how = "kill") {
      const fn = functions.get(name);
      if (!fn) throw new Error(`function ${name} is not running`);
      await (how === "kill" ? fn.kill() : fn.stop());
      await runner.launch(name, fn.port);
    },
    close: parts.cleanup.closeAll,
  };
}

/**
 * The W&B emulator on WANDB_EMULATOR_HOST (default 127.0.0.1:9030), accepting the key the
 * functions get (the test's, the user's WANDB_API_KEY, or the local one), with the demo
 * run queue.
 */
async function startWandbLocal(env: Env, options: StackOptions, fixed: boolean) {
  const key = options.functionEnv?.WANDB_API_KEY || env.WANDB_API_KEY || LOCAL_WANDB_API_KEY;
  const wandb = await startWandbEmulator({
    port: fixed ? hostPort(env.WANDB_EMULATOR_HOST, 9030) : 0,
    apiKeys: [key],
    entity: DEMO_WANDB_ENTITY,
    ...(options.wandbLeaseSeconds ? { leaseSeconds: options.wandbLeaseSeconds } : {}),
  });
  wandb.ctx.store.addQueue({
    entity: DEMO_WANDB_ENTITY,
    project: DEMO_WANDB_PROJECT,
    name: DEMO_WANDB_QUEUE,
    access: "PROJECT",
    createdBy: DEMO_WANDB_ENTITY,
    resource: "gcp-vertex",
    config: demoWandbQueueConfig(),
    templateVariables: {},
  });
  return wandb;
}
