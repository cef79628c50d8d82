// The dispatcher's configuration, parsed once from an env object passed in.
//
// Every variable is listed here, with its default; a bad value stops start-up with a
// message that names the variable and what it should look like. Nothing else in the
// product reads process.env.
import { z } from "zod";
import { DispatchError, type Issue } from "./errors.js";

const bucketName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/,
    "expected a bucket name such as my-state-bucket (no gs://)",
  );
const seconds = z.coerce.number().int().positive();
const hostPort = z.string().regex(/^[^\s:/]+:\d+$/, "expected host:port, e.g. 127.0.0.1:9010");
const url = z.string().url("expected a URL such as http://127.0.0.1:9023");

const OptionsSchema = z
  .object({
    GOOGLE_CLOUD_PROJECT: z.string().min(1, "set the GCP project id"),
    VERTEX_REGION: z.string().regex(/^[a-z]+-[a-z]+\d+$/, "expected a region such as us-central1"),
    STATE_BUCKET: bucketName,
    CONFIG_BUCKET: bucketName.optional(),
    QUEUE_CONFIG_DIR: z.string().min(1).optional(),
    QUEUE_CONFIG_TTL_SECONDS: seconds.default(60),
    BUCKET_METADATA_TTL_SECONDS: seconds.default(300),
    DEFAULT_JOB_SERVICE_ACCOUNT: z.string().email("expected a service-account email").optional(),
    WANDB_BASE_URL: url.default("https://api.wandb.ai"),
    WANDB_API_KEY: z.string().min(1).optional(),
    STATUS_TOPIC: z.string().min(1).default("launch-status"),
    LAUNCH_TOPIC: z.string().min(1).default("launch-jobs"),
    /** Seconds a dispatching instance holds a launch; must exceed the create deadline. */
    LEASE_SECONDS: seconds.default(120),
    /** Deadline of one CreateCustomJob call, in seconds. */
    CREATE_DEADLINE_SECONDS: seconds.default(60),
    MAX_MESSAGE_BYTES: seconds.default(256 * 1024),
    VERTEX_ENDPOINT: hostPort.optional(),
    GCS_ENDPOINT: url.optional(),
    PUBSUB_EMULATOR_HOST: hostPort.optional(),
    /** ListCustomJobs page size of the poll function. */
    POLL_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(1000),
    LOG_LEVEL: z.enum(["debug", "info", "warning", "error"]).default("info"),
    /** Seconds a SIGTERMed instance waits for the work in flight (Cloud Run kills it 10 s after SIGTERM). */
    SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(9).default(8),
  })
  .refine((o) => o.LEASE_SECONDS > o.CREATE_DEADLINE_SECONDS, {
    message:
      "LEASE_SECONDS must be greater than CREATE_DEADLINE_SECONDS (a lease shorter than a create could let two instances create the same job)",
    path: ["LEASE_SECONDS"],
  })
  .refine((o) => o.CONFIG_BUCKET !== undefined || o.QUEUE_CONFIG_DIR !== undefined, {
    message:
      "set CONFIG_BUCKET (production: gs://CONFIG_BUCKET/queues/) or QUEUE_CONFIG_DIR (development: a local directory)",
    path: ["CONFIG_BUCKET"],
  });

export type Options = z.infer<typeof OptionsSchema>;

/** How to set each variable right, for the start-up error (what the schema's own message does not say). */
const HOW_TO_SET: Partial<Record<keyof Options, string>> = {
  GOOGLE_CLOUD_PROJECT: "set it to the GCP project ID, e.g. my-project",
  VERTEX_REGION: "set it to the Vertex AI region of the jobs, e.g. us-central1",
  STATE_BUCKET: "set it to the name of the state bucket, e.g. my-project-launch-state (no gs://)",
  CONFIG_BUCKET: "set it to the bucket holding queues/<queue>.yaml, e.g. my-project-launch-config",
  QUEUE_CONFIG_DIR: "set it to a directory of <queue>.yaml files, e.g. ./queues",
  DEFAULT_JOB_SERVICE_ACCOUNT:
    "set it to a service-account email, e.g. trainer@my-project.iam.gserviceaccount.com",
  WANDB_BASE_URL: "set it to the W&B server URL, e.g. https://api.wandb.ai",
  VERTEX_ENDPOINT: "set it to host:port of a Vertex emulator, e.g. 127.0.0.1:9010, or unset it",
  GCS_ENDPOINT: "set it to the URL of a GCS emulator, e.g. http://127.0.0.1:9023, or unset it",
  PUBSUB_EMULATOR_HOST:
    "set it to host:port of the Pub/Sub emulator, e.g. 127.0.0.1:8085, or unset it",
  LOG_LEVEL: "set it to debug, info, warning or error",
  SHUTDOWN_GRACE_SECONDS:
    "set it to a whole number of seconds from 0 to 9, e.g. 8 (Cloud Run kills an instance 10 s after SIGTERM; the flush and close need the rest)",
};

/** One variable's problem, saying how to fix it; never its value (a mistyped secret must not reach the log). */
function issueText(name: string, zodMessage: string, present: boolean): string {
  const how =
    HOW_TO_SET[name as keyof Options] ?? "set it to a positive whole number of seconds or bytes";
  if (!present) return `${name} is not set: ${how}`;
  const why = zodMessage.startsWith("Invalid input") ? "" : ` (${zodMessage})`;
  return `${name} is invalid${why}: ${how}`;
}

/** The names of every variable the dispatcher reads, for docs and tests. */
export const OPTION_NAMES = Object.keys(OptionsSchema.shape) as Array<keyof Options>;

/** Parses the dispatcher's environment once; throws `bad_environment` naming each bad variable. */
export function parseOptions(env: Record<string, string | undefined>): Options {
  const picked: Record<string, string> = {};
  for (const name of OPTION_NAMES) {
    const value = env[name];
    if (value !== undefined && value !== "") picked[name] = value;
  }
  const result = OptionsSchema.safeParse(picked);
  if (result.success) return result.data;
  const issues: Issue[] = result.error.issues.map((i) => {
    const name = String(i.path[0] ?? "");
    // A rule across variables (a refine) explains itself; a single bad variable gets how to set it.
    const across = i.code === "custom";
    const message = across
      ? i.message.startsWith(name)
        ? i.message
        : `${name}: ${i.message}`
      : issueText(name, i.message, name in picked);
    return { path: name, message };
  });
  const lines = issues.map((i) => `  ${i.message}`).join("\n");
  throw new DispatchError("bad_environment", `the dispatcher's environment is invalid:\n${lines}`, {
    issues,
  });
}
