// CustomJob labels (SPEC §4): the queue's `spec.labels` plus the dispatcher's own. Our
// values are sanitised deterministically to Google's label rules; a user label that
// breaks the rules is an error (we do not rewrite what a user wrote).
import type { Issue } from "../errors.js";
import { formatPath } from "../errors.js";
import type { Spec } from "../schemas/queue_config.js";
import { LIMITS } from "./compute_facts.js";
import type { LaunchIds } from "./ids.js";
import { type IssueCollector, SET_BY_MESSAGE } from "./issues.js";
import { isPlain } from "./overrides.js";

/** Keys: start with a lowercase letter (international allowed), then lowercase, digits, `_`, `-`; 1-63 characters. */
export const LABEL_KEY_RE = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
/** Values: lowercase, digits, `_`, `-`; 0-63 characters. */
export const LABEL_VALUE_RE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

/** The label keys the dispatcher sets itself. */
export const DISPATCHER_LABEL_KEYS = [
  "managed-by",
  "wandb-run-id",
  "launch-queue",
  "wandb-entity",
  "wandb-project",
  "launch-id",
] as const;
export type DispatcherLabels = Record<(typeof DISPATCHER_LABEL_KEYS)[number], string>;

/** Lowercase; every character outside [a-z0-9_-] becomes "-"; at most 63 characters. */
export function sanitizeLabelValue(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "-")
    .slice(0, LIMITS.labelValueMax);
}

export function dispatcherLabels(input: {
  runId: string;
  queueName: string;
  entity: string;
  project: string;
  launchId: string;
}): DispatcherLabels {
  return {
    "managed-by": "vertex-dispatch",
    "wandb-run-id": sanitizeLabelValue(input.runId),
    "launch-queue": sanitizeLabelValue(input.queueName),
    "wandb-entity": sanitizeLabelValue(input.entity),
    "wandb-project": sanitizeLabelValue(input.project),
    "launch-id": sanitizeLabelValue(input.launchId),
  };
}

/** Checks the user's labels and adds ours; issues name the offending label. */
export function buildLabels(
  user: Record<string, string> | undefined,
  ours: DispatcherLabels,
): { labels: Record<string, string>; issues: Issue[] } {
  const issues: Issue[] = [];
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(user ?? {})) {
    const path = formatPath(["spec", "labels", key]);
    if ((DISPATCHER_LABEL_KEYS as readonly string[]).includes(key)) {
      issues.push({
        path,
        message: `label "${key}" is set by vertex-dispatch; choose another key`,
      });
    } else if (!LABEL_KEY_RE.test(key)) {
      issues.push({
        path,
        message: `label key "${key}" breaks Google's label rules: 1-63 characters, start with a lowercase letter, then lowercase letters, digits, "_" or "-"`,
      });
    } else if (!LABEL_VALUE_RE.test(value)) {
      issues.push({
        path,
        message: `label value ${JSON.stringify(value)} breaks Google's label rules: at most 63 lowercase letters, digits, "_" or "-"`,
      });
    } else {
      labels[key] = value;
    }
  }
  Object.assign(labels, ours);
  const total = Object.keys(user ?? {}).length + DISPATCHER_LABEL_KEYS.length;
  if (total > LIMITS.labelsMax) {
    issues.push({
      path: "spec.labels",
      message: `at most ${LIMITS.labelsMax - DISPATCHER_LABEL_KEYS.length} labels (vertex-dispatch adds ${DISPATCHER_LABEL_KEYS.length} of the ${LIMITS.labelsMax} allowed), got ${Object.keys(user ?? {}).length}`,
    });
  }
  return { labels, issues };
}

/**
 * Step "labels": the user's labels (checked) plus ours. Too many labels is the message's
 * doing when the queue's own labels fit and the message's resource_args added some.
 */
export function labelsFor(
  queueLabels: unknown,
  spec: Spec,
  ids: LaunchIds,
  issues: IssueCollector,
): Record<string, string> {
  const { runId, queueName, entity, wandbProject: project, launchId } = ids;
  const built = buildLabels(
    spec.labels,
    dispatcherLabels({ runId, queueName, entity, project, launchId }),
  );
  const queueCount = isPlain(queueLabels) ? Object.keys(queueLabels).length : 0;
  const queueFits = queueCount + DISPATCHER_LABEL_KEYS.length <= LIMITS.labelsMax;
  const messageAdds = issues.overrodeUnder("spec.labels.");
  for (const issue of built.issues) {
    if (issue.path === "spec.labels" && queueFits && messageAdds) {
      issues.fromMessage([{ ...issue, message: `${issue.message}${SET_BY_MESSAGE}` }]);
    } else {
      issues.fromResolved([issue]);
    }
  }
  return built.labels;
}
