// The environment each local function runs with: this process's environment, then the
// stack's names and emulator endpoints, then the test's extra variables; empty values
// dropped. Only the ingest function gets the webhook token and signing secret.
import { DEMO_JOB_SERVICE_ACCOUNT, DEMO_WANDB_QUEUES, LOCAL_WEBHOOK_TOKEN } from "./demo.js";

type Env = Record<string, string | undefined>;

export interface FunctionEnvInput {
  /** The user's environment (its values win over the local defaults). */
  env: Env;
  /** The test's extra variables (win over everything). */
  functionEnv: Env | undefined;
  project: string;
  region: string;
  stateBucket: string;
  configBucket: string;
  queueDir: string | undefined;
  pubsubHost: string;
  gcsUrl: string;
  vertexGrpc: string;
  vertexRest: string;
  wandbKey: string;
  wandbUrl: string;
}

export interface FunctionEnvs {
  /** What every function gets (without the webhook secrets); also what CLI commands need. */
  shared: Record<string, string>;
  webhookToken: string;
  signingSecret: string | undefined;
  /** The environment of the function `name`. */
  of(name: string): Record<string, string>;
}

export function functionEnvironments(input: FunctionEnvInput): FunctionEnvs {
  const all = nonEmpty({
    ...process.env,
    GOOGLE_CLOUD_PROJECT: input.project,
    VERTEX_REGION: input.region,
    STATE_BUCKET: input.stateBucket,
    ...(input.queueDir
      ? { QUEUE_CONFIG_DIR: input.queueDir }
      : { CONFIG_BUCKET: input.configBucket }),
    DEFAULT_JOB_SERVICE_ACCOUNT: input.env.DEFAULT_JOB_SERVICE_ACCOUNT || DEMO_JOB_SERVICE_ACCOUNT,
    PUBSUB_EMULATOR_HOST: input.pubsubHost,
    GCS_ENDPOINT: input.gcsUrl,
    VERTEX_ENDPOINT: input.vertexGrpc,
    VERTEX_REST_ENDPOINT: input.vertexRest,
    // Locally W&B is the emulator: the bridge pops it, and jobs get it as WANDB_BASE_URL.
    WANDB_API_KEY: input.wandbKey,
    WANDB_BASE_URL: input.wandbUrl,
    WANDB_QUEUES: input.env.WANDB_QUEUES || DEMO_WANDB_QUEUES,
    QUEUE_CONFIG_TTL_SECONDS: "2",
    // No GCE metadata server here: stop google-auth-library from probing for one.
    METADATA_SERVER_DETECTION: "none",
    ...input.functionEnv,
  });
  // The webhook token and signing secret: from the test's functionEnv, else the user's
  // environment, else the local token.
  const { WEBHOOK_TOKEN: givenToken, WEBHOOK_SIGNING_SECRET: givenSecret, ...shared } = all;
  const webhookToken = givenToken || input.env.WEBHOOK_TOKEN || LOCAL_WEBHOOK_TOKEN;
  const signingSecret = givenSecret || input.env.WEBHOOK_SIGNING_SECRET || undefined;
  const ingest = {
    ...shared,
    WEBHOOK_TOKEN: webhookToken,
    ...(signingSecret ? { WEBHOOK_SIGNING_SECRET: signingSecret } : {}),
  };
  return {
    shared,
    webhookToken,
    signingSecret,
    of: (name) => (name === "ingest" ? ingest : shared),
  };
}

function nonEmpty(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== "") out[k] = v;
  return out;
}
