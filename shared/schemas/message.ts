/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B macros such as ${run_name} are literal text in the descriptions. */
// The launch message (SPEC §2): UTF-8 JSON in the Pub/Sub message data, snake_case keys,
// unknown keys rejected. This schema is the single source of truth; the type is inferred.
import { z } from "zod";
import { issuesError } from "../errors.js";
import { evenWithOtherIssues, safeParseWithIssues } from "./zod_issues.js";

/** Environment variable names: a C identifier (env_var.proto). */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** W&B run ids the dispatcher accepts. */
export const RUN_ID_RE = /^[a-z0-9_-]{1,64}$/;
/** Template variable names (W&B semantics). */
export const TEMPLATE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Queue names become file names (`queues/<queue>.yaml`): no slashes, no leading dot. */
export const QUEUE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** A W&B job artifact: `entity/project/name:alias`. */
const JOB_RE = /^[^/\s:]+\/[^/\s:]+\/[^/\s:]+:[^/\s:]+$/;

/** The secret the dispatcher injects itself; a message may never set it. */
export const SECRET_ENV_NAMES = ["WANDB_API_KEY"] as const;

const SectionOverride = z.strictObject({
  spec: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "Keys of the queue config's spec to override (JSON merge patch: null removes a key, lists replace).",
    ),
  run: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "Keys of the queue config's run to override (JSON merge patch: null removes a key, lists replace).",
    ),
});

const ResourceArgs = z
  .strictObject({
    "gcp-vertex": SectionOverride.optional().describe(
      "Overrides of spec/run (W&B's resource_args key).",
    ),
    vertex: SectionOverride.optional().describe(
      'The same as "gcp-vertex" (the older key); give only one of the two.',
    ),
  })
  .superRefine((value, ctx) => {
    if (value["gcp-vertex"] !== undefined && value.vertex !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["vertex"],
        message: 'give the overrides under one key, "gcp-vertex" or "vertex", not both',
      });
    }
  }, evenWithOtherIssues);

export const LaunchMessageSchema = z
  .strictObject({
    action: z
      .enum(["launch", "cancel"], { error: 'expected "launch" (the default) or "cancel"' })
      .default("launch")
      .describe('"launch" creates a job; "cancel" cancels the launch named by queue and run_id.'),
    queue: z
      .string()
      .regex(QUEUE_NAME_RE, {
        error:
          "expected a queue name: letters, digits, '.', '_' or '-', starting with a letter or digit, at most 128 characters",
      })
      .describe(
        "The queue config to resolve: queues/<queue>.yaml (letters, digits, '.', '_', '-'; at most 128 characters).",
      ),
    entity: z.string().min(1).optional().describe("W&B entity of the run; required for a launch."),
    project: z
      .string()
      .min(1)
      .optional()
      .describe(
        "W&B project of the run; required for a launch. Lower-cased, as W&B does, in ${project_name}, WANDB_PROJECT, labels and paths.",
      ),
    run_id: z
      .string()
      .regex(RUN_ID_RE, { error: "expected 1-64 characters of a-z, 0-9, '_' or '-'" })
      .optional()
      .describe(
        "W&B run id ([a-z0-9_-]{1,64}); if absent, 8 characters derived from the idempotency key, so a redelivery gets the same id. Required for a cancel.",
      ),
    name: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Run name: the job's display name (unless spec.display_name), ${run_name}, WANDB_NAME.",
      ),
    author: z
      .string()
      .min(1)
      .optional()
      .describe("Who launched the run: ${author}, WANDB_USERNAME."),
    job: z
      .string()
      .regex(JOB_RE, { error: 'expected a W&B job artifact "entity/project/name:alias"' })
      .optional()
      .describe(
        'W&B job artifact "entity/project/name:alias": WANDB_ARTIFACTS = {"_wandb_job": job}.',
      ),
    image_uri: z.string().min(1).optional().describe("Container image: fills ${image_uri}."),
    entry_point: z
      .array(z.string())
      .min(1)
      .optional()
      .describe(
        "Replaces container_spec.command in every worker pool (an error with a python_package_spec).",
      ),
    args: z
      .array(z.string())
      .optional()
      .describe(
        "Come first in every worker pool's args, before the pool's own: the container runs entry point + launch args + queue args.",
      ),
    run_config: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "The run's config: WANDB_CONFIG (JSON; split into WANDB_CONFIG_0..N past 32,670 characters).",
      ),
    env: z
      .record(
        z.string().regex(ENV_NAME_RE, {
          error: "environment variable names are C identifiers: [A-Za-z_][A-Za-z0-9_]*",
        }),
        z.string(),
      )
      .superRefine((env, ctx) => {
        for (const name of SECRET_ENV_NAMES) {
          if (Object.hasOwn(env, name)) {
            ctx.addIssue({
              code: "custom",
              path: [name],
              message: `${name} is not allowed in a message: the dispatcher injects it from its own secret`,
            });
          }
        }
      }, evenWithOtherIssues)
      .optional()
      .describe(
        "Extra container env, after the W&B variables; names [A-Za-z_][A-Za-z0-9_]*; WANDB_API_KEY and the injected W&B names are refused.",
      ),
    template_variables: z
      .record(
        z.string().regex(TEMPLATE_NAME_RE, {
          error: "template variable names are [A-Za-z_][A-Za-z0-9_-]*",
        }),
        z.union([z.string(), z.number()], { error: "expected a string or a number" }),
      )
      .optional()
      .describe("Values of the queue's template variables, by name (else their defaults)."),
    resource_args: ResourceArgs.optional().describe(
      'Overrides of the queue\'s spec/run under "gcp-vertex" (or "vertex"); only on a queue with allow_resource_overrides: true.',
    ),
    priority: z
      .number()
      .int()
      .min(0)
      .max(3)
      .default(2)
      .describe("0-3, 0 highest: the order in which launches held by max_jobs leave the backlog."),
  })
  .superRefine((m, ctx) => {
    const need = (key: "entity" | "project" | "run_id", why: string) => {
      if (m[key] === undefined)
        ctx.addIssue({ code: "custom", path: [key], message: `required ${why}` });
    };
    // Runs even when other fields are wrong, so every problem is reported at once; an
    // unknown action is reported by its own field and gets no requirement checks.
    if (m.action === "launch" || m.action === undefined) {
      need("entity", "for a launch: the W&B entity");
      need("project", "for a launch: the W&B project");
    } else if (m.action === "cancel") {
      need("run_id", "for a cancel: the run id of the launch to cancel");
    }
  }, evenWithOtherIssues);

export type LaunchMessage = z.output<typeof LaunchMessageSchema>;

/** Validates a decoded launch message; throws invalid_message listing every problem with its path. */
export function parseLaunchMessage(data: unknown): LaunchMessage {
  const result = safeParseWithIssues(LaunchMessageSchema, data);
  if (result.ok) return result.data;
  throw issuesError("invalid_message", "invalid launch message", result.issues);
}
