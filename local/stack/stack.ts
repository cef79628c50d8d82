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
  pullMessages,
  pushEndpoint,
  SUBSCRIPTIONS,
  startPubsubEmulator,
  TOPICS,
} from "../pubsub/index.js";
import { type ClockConfig, startVertexEmulator, type VertexEmulator } from "../vertex/index.js";
import {
  DEMO_JOB_SERVICE_ACCOUNT,
  DEMO_QUEUE,
  DEMO_STAGING_BUCKET,
  demoQueueYaml,
  LOCAL_WEBHOOK_TOKEN,
} from "./demo.js";
import { freePort, type LocalFunction, startFunction } from "./functions.js";

export type Env = Record<string, string | undefined>;

/** A status event as read from the launch-status topic. */
export type StatusEventJson = Record<string, unknown> & {
  launch_id: string;
  state: string;
  run_id: string | null;
};

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
  /** Push retry backoff of the dispatch subscription, in seconds. */
  retry?: { minimumBackoffSeconds: number; maximumBackoffSeconds: number };
  maxDeliveryAttempts?: number;
  /** Progress lines of the stack itself. */
  log?: (line: string) => void;
  /** Lines the functions print (their JSON logs). */
  functionLog?: (fn: string, line: string) => void;
}

export interface Stack {
  project: string;
  region: string;
  /** The environment the functions run with; also what CLI commands need. */
  env: Record<string, string>;
  pubsubEmulator: PubsubEmulator;
  gcs: GcsEmulator;
  vertex: VertexEmulator;
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

export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? (() => {});
  const env = options.env;
  // This process talks only to emulators: no GCE metadata server to probe for.
  process.env.METADATA_SERVER_DETECTION ??= "none";
  const fixed = options.ports === "fixed";
  const project = env.GOOGLE_CLOUD_PROJECT || "local-project";
  const region = env.VERTEX_REGION || "us-central1";
  const stateBucket = env.STATE_BUCKET || "local-state";
  const configBucket = env.CONFIG_BUCKET || "local-config";
  const queueDir = env.QUEUE_CONFIG_DIR || undefined;
  const cleanup: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  };

  try {
    log("starting the Pub/Sub emulator (gcloud beta emulators pubsub start)...");
    const pubsubEmulator = await startPubsubEmulator({
      projectId: project,
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

    const storage = new Storage({ projectId: project, apiEndpoint: gcs.url });
    for (const [bucket, location] of [
      [stateBucket, region],
      [configBucket, region],
      [DEMO_STAGING_BUCKET, region],
    ] as const) {
      const [exists] = await storage.bucket(bucket).exists();
      if (!exists) await storage.createBucket(bucket, { location });
    }
    if (queueDir) {
      await mkdir(queueDir, { recursive: true });
      await writeFile(join(queueDir, `${DEMO_QUEUE}.yaml`), demoQueueYaml(region));
    } else {
      await storage
        .bucket(configBucket)
        .file(`queues/${DEMO_QUEUE}.yaml`)
        .save(demoQueueYaml(region), { resumable: false });
    }
    log(
      `  seeded buckets gs://${stateBucket}, gs://${configBucket}, gs://${DEMO_STAGING_BUCKET} (${region}) and queue "${DEMO_QUEUE}"`,
    );

    const functionEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries({
      ...process.env,
      GOOGLE_CLOUD_PROJECT: project,
      VERTEX_REGION: region,
      STATE_BUCKET: stateBucket,
      ...(queueDir ? { QUEUE_CONFIG_DIR: queueDir } : { CONFIG_BUCKET: configBucket }),
      DEFAULT_JOB_SERVICE_ACCOUNT: env.DEFAULT_JOB_SERVICE_ACCOUNT || DEMO_JOB_SERVICE_ACCOUNT,
      PUBSUB_EMULATOR_HOST: pubsubEmulator.host,
      GCS_ENDPOINT: gcs.url,
      VERTEX_ENDPOINT: vertex.grpcAddress,
      VERTEX_REST_ENDPOINT: vertex.restUrl,
      WANDB_API_KEY: env.WANDB_API_KEY,
      WANDB_BASE_URL: env.WANDB_BASE_URL,
      QUEUE_CONFIG_TTL_SECONDS: "2",
      // No GCE metadata server here: stop google-auth-library from probing for one.
      METADATA_SERVER_DETECTION: "none",
      ...options.functionEnv,
    })) {
      if (v !== undefined && v !== "") functionEnv[k] = v;
    }

    // Only the ingest function gets the webhook token and signing secret (from the test's
    // functionEnv, else the user's environment, else the local token).
    const {
      WEBHOOK_TOKEN: givenToken,
      WEBHOOK_SIGNING_SECRET: givenSecret,
      ...sharedEnv
    } = functionEnv;
    const webhookToken = givenToken || env.WEBHOOK_TOKEN || LOCAL_WEBHOOK_TOKEN;
    const signingSecret = givenSecret || env.WEBHOOK_SIGNING_SECRET || undefined;
    const envOf = (name: string): Record<string, string> =>
      name === "ingest"
        ? {
            ...sharedEnv,
            WEBHOOK_TOKEN: webhookToken,
            ...(signingSecret ? { WEBHOOK_SIGNING_SECRET: signingSecret } : {}),
          }
        : sharedEnv;
    const functions = new Map<string, LocalFunction>();
    const launchFunction = async (name: string, port: number) => {
      const source = SOURCES[name];
      if (!source) throw new Error(`unknown function ${name}`);
      const fn = await startFunction({
        name,
        source,
        port,
        env: envOf(name),
        signatureType: name === "ingest" ? "http" : "cloudevent",
        onLine: (line) => options.functionLog?.(name, line),
      });
      functions.set(name, fn);
      return fn;
    };
    cleanup.push(async () => {
      for (const fn of functions.values()) await fn.stop();
    });
    for (const name of options.functions ?? ["dispatch", "poll", "ingest"]) {
      const [portVar, defaultPort] = FUNCTION_PORT_VARS[name] ?? ["", 0];
      const port = fixed ? Number(env[portVar] || defaultPort) : await freePort();
      const fn = await launchFunction(name, port);
      log(`  function ${name} on ${fn.url} (Functions Framework)`);
    }

    const pubsub = emulatorClient(pubsubEmulator.host, project);
    cleanup.push(() => pubsub.close());
    const dispatch = functions.get("dispatch");
    const poll = functions.get("poll");
    await createTopology(pubsub, {
      pushEndpoints: {
        ...(dispatch ? { dispatch: pushEndpoint(dispatch.url, project, TOPICS.jobs) } : {}),
        ...(poll ? { poll: pushEndpoint(poll.url, project, TOPICS.poll) } : {}),
      },
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.maxDeliveryAttempts ? { maxDeliveryAttempts: options.maxDeliveryAttempts } : {}),
    });
    log(
      `  topics ${Object.values(TOPICS).join(", ")}; push subscriptions ${SUBSCRIPTIONS.dispatch}, ${SUBSCRIPTIONS.poll}`,
    );

    // Cloud Scheduler's part: a tick on launch-poll every few seconds.
    const interval = options.pollIntervalMs ?? 3000;
    if (poll && interval > 0) {
      const timer = setInterval(() => {
        void pubsub
          .topic(TOPICS.poll)
          .publishMessage({ json: { tick: new Date().toISOString() } })
          .catch(() => {});
      }, interval);
      cleanup.push(async () => clearInterval(timer));
      log(`  a poll tick every ${interval / 1000} s (Cloud Scheduler: every minute in production)`);
    }

    // Status events: a background reader of the local pull subscription.
    const events: StatusEventJson[] = [];
    const waiters = new Set<() => void>();
    let reading = true;
    const reader = (async () => {
      while (reading) {
        try {
          const got = await pullMessages(pubsub, SUBSCRIPTIONS.statusLocal, {
            min: 1,
            timeoutMs: 500,
          });
          for (const m of got) events.push(JSON.parse(m.data.toString("utf8")) as StatusEventJson);
          if (got.length > 0) for (const w of waiters) w();
        } catch {
          if (reading) await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
    cleanup.push(async () => {
      reading = false;
      await reader;
    });

    const stack: Stack = {
      project,
      region,
      env: sharedEnv,
      pubsubEmulator,
      gcs,
      vertex,
      pubsub,
      storage,
      functions,
      webhook: functions.get("ingest")
        ? {
            url: functions.get("ingest")?.url ?? "",
            token: webhookToken,
            signingSecret,
          }
        : undefined,
      events,
      waitForEvent(match, timeoutMs = 30_000) {
        return new Promise((resolve, reject) => {
          const check = () => {
            const hit = events.find(match);
            if (!hit) return false;
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
            return true;
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            reject(
              new Error(
                `no matching status event within ${timeoutMs} ms; events so far: ${JSON.stringify(events)}`,
              ),
            );
          }, timeoutMs);
          if (!check()) waiters.add(check);
        });
      },
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
        await launchFunction(name, fn.port);
      },
      close: closeAll,
    };
    return stack;
  } catch (err) {
    await closeAll();
    throw err;
  }
}
