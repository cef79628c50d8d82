// The ingest function's configuration, parsed once from an env object passed in. Its own
// small schema: the ingest function publishes launches and needs none of the
// dispatcher's buckets. A bad value stops start-up with `bad_environment` naming the
// variable; a value is never echoed (a mistyped secret must not reach the log).
import { z } from "zod";
import { DispatchError, type Issue } from "../errors.js";

const IngestOptionsSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z.string().min(1, "set the GCP project id of the launch topic"),
  LAUNCH_TOPIC: z
    .string()
    .regex(
      /^[A-Za-z][A-Za-z0-9._~%+-]{2,254}$/,
      "expected a Pub/Sub topic id such as launch-jobs (not projects/.../topics/...)",
    )
    .default("launch-jobs"),
  /** The bearer token W&B sends; absent: every request is refused with 500. */
  WEBHOOK_TOKEN: z
    .string()
    .regex(/^\S+$/, "must not contain spaces or line breaks (a bearer token cannot)")
    .optional(),
  /** The W&B webhook's signing secret; set: X-Wandb-Signature must match too. */
  WEBHOOK_SIGNING_SECRET: z.string().min(1).optional(),
  MAX_MESSAGE_BYTES: z.coerce
    .number({ error: "expected a whole number of bytes, e.g. 262144" })
    .int("expected a whole number of bytes, e.g. 262144")
    .positive("expected a positive number of bytes, e.g. 262144")
    .default(256 * 1024),
  PUBSUB_EMULATOR_HOST: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, "expected host:port, e.g. 127.0.0.1:8085")
    .optional(),
  LOG_LEVEL: z
    .enum(["debug", "info", "warning", "error"], {
      error: "expected debug, info, warning or error",
    })
    .default("info"),
  /** Seconds a SIGTERMed instance waits for the requests in flight (Cloud Run kills it 10 s after SIGTERM). */
  SHUTDOWN_GRACE_SECONDS: z.coerce
    .number({ error: "expected a whole number of seconds from 0 to 9, e.g. 8" })
    .int("expected a whole number of seconds from 0 to 9, e.g. 8")
    .min(0, "expected a whole number of seconds from 0 to 9, e.g. 8")
    .max(9, "expected at most 9 seconds: Cloud Run kills an instance 10 s after SIGTERM")
    .default(8),
});

export type IngestOptions = z.infer<typeof IngestOptionsSchema>;

/** Every variable the ingest function reads (Terraform sets exactly these). */
export const INGEST_OPTION_NAMES = Object.keys(IngestOptionsSchema.shape) as Array<
  keyof IngestOptions
>;

/** Parses the ingest function's environment once; throws `bad_environment` naming each bad variable. */
export function parseIngestOptions(env: Record<string, string | undefined>): IngestOptions {
  const picked: Record<string, string> = {};
  for (const name of INGEST_OPTION_NAMES) {
    const value = env[name];
    if (value !== undefined && value !== "") picked[name] = value;
  }
  const result = IngestOptionsSchema.safeParse(picked);
  if (result.success) return result.data;
  const issues: Issue[] = result.error.issues.map((i) => ({
    path: String(i.path[0] ?? ""),
    message: i.message.startsWith("Invalid input") ? "is missing or invalid" : i.message,
  }));
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join("\n");
  throw new DispatchError(
    "bad_environment",
    `the ingest function's environment is invalid:\n${lines}`,
    { issues },
  );
}
