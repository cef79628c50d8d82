/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B macros such as ${image_uri} are literal strings here. */
// Builders for resolver tests: a small valid queue config and launch message, and a
// helper that runs a function expected to throw a DispatchError and returns it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DispatchError } from "../../shared/errors.js";
import {
  type ResolveDefaults,
  type ResolvedLaunch,
  resolveLaunch,
} from "../../shared/resolve/resolve.js";
import { parseLaunchMessage } from "../../shared/schemas/message.js";
import { parseQueueConfig } from "../../shared/schemas/queue_config.js";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FIXTURES = join(REPO_ROOT, "test", "fixtures", "examples");

export function fixture(kind: "queues" | "messages", name: string): string {
  return readFileSync(join(FIXTURES, kind, name), "utf8");
}

type Raw = Record<string, unknown>;

/**
 * W&B's default GCP Vertex queue config, as the seed tutorial gives it (../shared/seed), with
 * the given staging bucket: one n1-standard-4 worker pool running the launch's image.
 */
export function seedQueue(stagingBucket: string): Raw {
  return {
    spec: {
      worker_pool_specs: [
        {
          machine_spec: {
            machine_type: "n1-standard-4",
            accelerator_type: "ACCELERATOR_TYPE_UNSPECIFIED",
            accelerator_count: 0,
          },
          replica_count: 1,
          container_spec: { image_uri: "${image_uri}" },
        },
      ],
      staging_bucket: stagingBucket,
    },
    run: { restart_job_on_worker_restart: false },
  };
}

/** A minimal valid queue config (the seed's default, plus a region and a service account). */
export function baseQueue(): Raw {
  return {
    region: "us-central1",
    ...seedQueue("gs://acme-staging"),
    run: { service_account: "trainer@acme-ml.iam.gserviceaccount.com" },
  };
}

export function baseMessage(): Raw {
  return {
    queue: "q",
    entity: "acme",
    project: "vision",
    run_id: "run1",
    image_uri: "us-central1-docker.pkg.dev/acme-ml/train/img:1",
  };
}

/** Deep-sets `value` at a dotted path with [i] indexes (creates objects on the way). */
export function set(target: Raw, path: string, value: unknown): Raw {
  const segments = path.match(/[^.[\]]+/g) ?? [];
  let cur: Record<string, unknown> | unknown[] = target;
  segments.forEach((seg, i) => {
    const key: string | number = /^\d+$/.test(seg) ? Number(seg) : seg;
    const last = i === segments.length - 1;
    const c = cur as Record<string | number, unknown>;
    if (last) {
      if (value === undefined) delete c[key];
      else c[key] = value;
    } else {
      if (c[key] === undefined || c[key] === null) c[key] = {};
      cur = c[key] as Record<string, unknown>;
    }
  });
  return target;
}

export const DEFAULTS: ResolveDefaults = { project: "acme-ml" };

export function resolveRaw(
  queue: Raw,
  message: Raw,
  defaults: ResolveDefaults = DEFAULTS,
  idempotencyKey = "q/acme/vision/run1",
): ResolvedLaunch {
  return resolveLaunch({
    queueName: "q",
    config: parseQueueConfig(queue, "q"),
    message: parseLaunchMessage(message),
    idempotencyKey,
    defaults,
  });
}

/** Runs `fn`, asserts it throws a DispatchError, and returns it. */
export function caught(fn: () => unknown): DispatchError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DispatchError, `expected a DispatchError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a DispatchError, nothing was thrown");
}

/** Asserts an issue with exactly this path exists and its message matches. */
export function assertIssue(err: DispatchError, path: string, message: RegExp): void {
  const matching = err.issues.filter((i) => i.path === path);
  assert.ok(
    matching.some((i) => message.test(i.message)),
    `no issue at "${path}" matching ${message}; issues:\n${err.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`,
  );
}

/** Asserts one warning matches (with a readable failure message). */
export function assertWarning(warnings: readonly string[], pattern: RegExp | string): void {
  const ok = warnings.some((w) =>
    typeof pattern === "string" ? w.includes(pattern) : pattern.test(w),
  );
  assert.ok(
    ok,
    `no warning matching ${String(pattern)}; warnings:\n${warnings.map((w) => `  ${w}`).join("\n")}`,
  );
}
