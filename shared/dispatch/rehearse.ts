// Build time only: the dispatch path run once, before gcp-build's producer saves index.js's
// V8 code cache (scripts/code_cache.mjs), so the cache holds the functions a first delivery
// compiles, not only the module top level's. Never called at run time. A cache changes how
// fast V8 gets to the code, never what the code does (V8 rejects one made for other
// source bytes, another V8 or other flags).
//
// Nothing leaves the machine: the clients point at two loopback listeners that refuse
// every request (shared/dispatch/refuser.ts: HTTP 404 for Storage, gRPC UNIMPLEMENTED for
// Vertex and Pub/Sub), none of which is retried, so each step runs the SDK's request and
// error path once and ends. The steps are what a first delivery does: decode and parse
// the message, claim (the record write, refused), load and resolve the queue config (from a
// temporary directory: production reads it from the config bucket, then parses and resolves
// it with the same code), read the staging bucket's metadata, create the CustomJob, publish
// the status event. Not rehearsed: success paths past a refusal (decoding a CustomJob, a
// record's generation), and production's TLS and credentials (the emulator paths stand in).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeClients } from "../clients.js";
import { createLogger } from "../log.js";
import { parseOptions } from "../options.js";
import { resolveLaunch } from "../resolve/resolve.js";
import { parseLaunchMessage } from "../schemas/message.js";
import { decodeDelivery } from "./delivery.js";
import { dispatchDeps } from "./deps.js";
import { resolveDefaults } from "./drive.js";
import { handleDelivery } from "./handle_delivery.js";
import { type Refuser, startRefuser } from "./refuser.js";

const QUEUE = "rehearsal";
const REGION = "us-central1";
const STAGING = "rehearsal-staging";

/** W&B's default Vertex queue config (as the local stack's demo queue). */
const QUEUE_YAML = `region: ${REGION}
spec:
  worker_pool_specs:
    - machine_spec:
        machine_type: n1-standard-4
        accelerator_type: ACCELERATOR_TYPE_UNSPECIFIED
        accelerator_count: 0
      replica_count: 1
      container_spec:
        image_uri: \${image_uri}
  staging_bucket: gs://${STAGING}
  service_account: trainer@rehearsal.iam.gserviceaccount.com
run:
  restart_job_on_worker_restart: false
`;

const MESSAGE = {
  queue: QUEUE,
  entity: "acme",
  project: "vision",
  run_id: "rehearsal",
  name: "rehearsal",
  image_uri: `${REGION}-docker.pkg.dev/acme/train/resnet:1`,
  run_config: { lr: 0.001 },
};

/** What reached the listeners: each request refused, and how many carried credentials. */
export type Rehearsal = Pick<Refuser, "refused" | "authorized">;

/** Runs each step once against the refusing listeners; resolves when all have ended. */
export async function rehearseDispatch(): Promise<Rehearsal> {
  // No GCE metadata server probe (google-auth-library's project and environment lookups):
  // the producer's process exits after this, and the loopback listeners ask no credentials.
  process.env.METADATA_SERVER_DETECTION = "none";
  const refuser = await startRefuser();
  const dir = mkdtempSync(join(tmpdir(), "vd-rehearsal-"));
  try {
    writeFileSync(join(dir, `${QUEUE}.yaml`), QUEUE_YAML);
    const options = parseOptions({
      GOOGLE_CLOUD_PROJECT: "rehearsal",
      VERTEX_REGION: REGION,
      STATE_BUCKET: "rehearsal-state",
      QUEUE_CONFIG_DIR: dir,
      GCS_ENDPOINT: refuser.httpUrl,
      VERTEX_ENDPOINT: refuser.grpcHost,
      PUBSUB_EMULATOR_HOST: refuser.grpcHost,
      WANDB_API_KEY: "rehearsal-not-a-key",
    });
    const clients = await makeClients(options);
    try {
      await steps({ ...dispatchDeps(options, clients), log: quietLog(options) });
    } finally {
      await clients.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await refuser.close();
  }
  return { refused: refuser.refused, authorized: refuser.authorized };
}

type Deps = ReturnType<typeof dispatchDeps>;

async function steps(deps: Deps): Promise<void> {
  const data = Buffer.from(JSON.stringify(MESSAGE)).toString("base64");
  const event = { id: "1", data: { message: { data, attributes: {}, messageId: "1" } } };
  await ended(handleDelivery(decodeDelivery(event), deps));
  const config = await deps.queues.load(QUEUE);
  const resolved = resolveLaunch({
    queueName: QUEUE,
    config,
    message: parseLaunchMessage(MESSAGE),
    idempotencyKey: "rehearsal",
    defaults: resolveDefaults(deps.options),
  });
  await ended(deps.bucketInfo(STAGING));
  await ended(deps.jobs.ready(resolved.parent));
  await ended(deps.jobs.create(resolved.parent, resolved.customJob, () => 5_000));
  await ended(deps.publish(rehearsalEvent()));
  await ended(deps.publish.flush());
}

/** The logger's formatting and redaction run; its lines go nowhere (not the build's log). */
function quietLog(options: ReturnType<typeof parseOptions>) {
  return createLogger({ level: "info", secrets: [options.WANDB_API_KEY], write: () => {} });
}

function rehearsalEvent(): Parameters<Deps["publish"]>[0] {
  return {
    launch_id: "rehearsal",
    queue: QUEUE,
    entity: MESSAGE.entity,
    project: MESSAGE.project,
    run_id: MESSAGE.run_id,
    state: "submitted",
    previous_state: null,
    vertex_state: "JOB_STATE_QUEUED",
    job_name: `projects/rehearsal/locations/${REGION}/customJobs/1`,
    console_url: null,
    error: null,
    warnings: [],
    attempt: 1,
    time: new Date(0).toISOString(),
  };
}

/** Waits for a step whose refusal is expected; a step that succeeds is as good. */
async function ended(step: Promise<unknown>): Promise<void> {
  await step.catch(() => {});
}
