// Step "overrides": the message's resource_args["gcp-vertex"] (or ["vertex"]) merged over
// the queue's spec/run, only when the queue sets allow_resource_overrides: true. Empty
// objects override nothing, so they are never refused. Unknown keys are reported at their
// message path, and only there.
import { formatPath } from "../errors.js";
import type { LaunchMessage } from "../schemas/message.js";
import { type QueueConfig, RunSchema, SpecSchema } from "../schemas/queue_config.js";
import { unknownKeyIssues } from "../schemas/zod_issues.js";
import type { IssueCollector } from "./issues.js";

export type Plain = Record<string, unknown>;
export const isPlain = (v: unknown): v is Plain =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** JSON-merge-patch style: objects merge key by key, `null` removes a key, anything else (lists too) replaces. */
export function deepMerge(base: Plain, patch: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isPlain(value) && isPlain(out[key])) out[key] = deepMerge(out[key] as Plain, value);
    else out[key] = structuredClone(value);
  }
  return out;
}

/**
 * Paths of the leaves (non-object values) of a patch. An empty object overrides nothing
 * (merged, it changes no value), so it has no leaves.
 */
function leafPaths(value: unknown, path: string[] = []): string[][] {
  if (!isPlain(value)) return [path];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
}

/** spec/run after the overrides, and the config paths of unknown keys already reported. */
export interface Sections {
  spec: Plain;
  run: Plain;
  unknownInOverride: Set<string>;
}

export function applyOverrides(
  config: QueueConfig,
  message: LaunchMessage,
  queueName: string,
  issues: IssueCollector,
): Sections {
  const sections: Sections = {
    spec: structuredClone(config.spec),
    run: structuredClone(config.run),
    unknownInOverride: new Set(),
  };
  const key = message.resource_args?.["gcp-vertex"] !== undefined ? "gcp-vertex" : "vertex";
  const override = message.resource_args?.[key];
  if (!override || (override.spec === undefined && override.run === undefined)) return sections;
  const base = ["message", "resource_args", key];
  const leaves = leafPaths(
    Object.fromEntries(Object.entries(override).filter(([, v]) => v !== undefined)),
  );
  if (!config.allow_resource_overrides) {
    issues.fromMessage(
      leaves.map((leaf) => ({
        path: formatPath([...base, ...leaf]),
        message: `queue "${queueName}" does not allow resource overrides: remove this field from resource_args, or set allow_resource_overrides: true in the queue config`,
      })),
    );
    return sections;
  }
  const unknown = [
    ...unknownKeyIssues(SpecSchema, override.spec ?? {}, [...base, "spec"]),
    ...unknownKeyIssues(RunSchema, override.run ?? {}, [...base, "run"]),
  ];
  issues.fromMessage(unknown);
  const prefix = `${formatPath(base)}.`;
  for (const issue of unknown) sections.unknownInOverride.add(issue.path.slice(prefix.length));
  sections.spec = deepMerge(sections.spec, override.spec ?? {});
  sections.run = deepMerge(sections.run, override.run ?? {});
  issues.noteOverrides(leaves.map((leaf) => formatPath(leaf)));
  return sections;
}
