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
  spec: z.record(z.string(), z.unknown()).optional(),
  run: z.record(z.string(), z.unknown()).optional(),
});

const ResourceArgs = z
  .strictObject({
    "gcp-vertex": SectionOverride.optional(),
    vertex: SectionOverride.optional(),
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
      .default("launch"),
    queue: z.string().regex(QUEUE_NAME_RE, {
      error:
        "expected a queue name: letters, digits, '.', '_' or '-', starting with a letter or digit, at most 128 characters",
    }),
    entity: z.string().min(1).optional(),
    project: z.string().min(1).optional(),
    run_id: z
      .string()
      .regex(RUN_ID_RE, { error: "expected 1-64 characters of a-z, 0-9, '_' or '-'" })
      .optional(),
    name: z.string().min(1).optional(),
    author: z.string().min(1).optional(),
    job: z
      .string()
      .regex(JOB_RE, { error: 'expected a W&B job artifact "entity/project/name:alias"' })
      .optional(),
    image_uri: z.string().min(1).optional(),
    entry_point: z.array(z.string()).min(1).optional(),
    args: z.array(z.string()).optional(),
    run_config: z.record(z.string(), z.unknown()).optional(),
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
      .optional(),
    template_variables: z
      .record(
        z.string().regex(TEMPLATE_NAME_RE, {
          error: "template variable names are [A-Za-z_][A-Za-z0-9_-]*",
        }),
        z.union([z.string(), z.number()], { error: "expected a string or a number" }),
      )
      .optional(),
    resource_args: ResourceArgs.optional(),
    priority: z.number().int().min(0).max(3).default(2),
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
