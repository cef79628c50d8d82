// What the resolver takes and gives (SPEC §3, §4).
import type { LaunchMessage } from "../schemas/message.js";
import type { QueueConfig } from "../schemas/queue_config.js";

export interface ResolveDefaults {
  /** `$GOOGLE_CLOUD_PROJECT`: used when the queue sets no `project`. */
  project?: string;
  /** `$VERTEX_REGION`: used when the queue sets no `region`. */
  region?: string;
  /** `$DEFAULT_JOB_SERVICE_ACCOUNT`: used when neither run, spec nor queue sets one. */
  defaultServiceAccount?: string;
  /** `$WANDB_BASE_URL` (default https://api.wandb.ai). */
  wandbBaseUrl?: string;
  /** `$WANDB_API_KEY`, the dispatcher's own secret; injected as WANDB_API_KEY, never printed in errors. */
  wandbApiKey?: string;
  /**
   * Where each default came from, for error messages: the dispatcher's variable names
   * unless given (`vertex-dispatch render` passes e.g. "--project" for a flag).
   */
  sources?: { project?: string; region?: string; defaultServiceAccount?: string };
}

export interface ResolvedLaunch {
  launchId: string;
  runId: string;
  idempotencyKey: string;
  queueName: string;
  config: QueueConfig;
  project: string;
  region: string;
  /** `projects/{project}/locations/{region}` */
  parent: string;
  /** For `JobServiceClient.createCustomJob({parent, customJob})`: camelCase, Durations as {seconds}, enums by name. */
  customJob: Record<string, unknown>;
  /** Bucket names (no gs://), for the preflight. */
  stagingBucket: string;
  outputBucket: string;
  /** Every container/executor image, for the image preflight. */
  imageUris: string[];
  warnings: string[];
}

export interface ResolveInput {
  queueName: string;
  config: QueueConfig;
  message: LaunchMessage;
  idempotencyKey: string;
  defaults: ResolveDefaults;
}
