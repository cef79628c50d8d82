// What every property test checks about one delivery through the real dispatch core
// (GCS and Vertex emulators over the official SDKs): it settles (no hang, no crash), a job
// exists exactly when the outcome is `submitted` (so the Vertex emulator, which validates
// CreateCustomJob as Vertex does, accepted the rendered request), a rejection names a path,
// and the canary secret is in no event, log line or error.
import assert from "node:assert/strict";
import type { Outcome } from "../../shared/dispatch/deps.js";
import { handleDelivery } from "../../shared/dispatch/handle_delivery.js";
import { createLogger } from "../../shared/log.js";
import type { Core } from "../helpers/core.js";
import { CANARY } from "./arbitraries.js";

const HANG_MS = 20_000;
let deliveries = 0;

/** Kinds that mean the input itself was refused before any job was attempted. */
const INPUT_KINDS = new Set([
  "invalid_message",
  "invalid_config",
  "preflight_failed",
  "queue_not_found",
]);

export interface Delivered {
  outcome: Outcome;
  error: { kind: string; message: string; issues: Array<{ path: string; message: string }> } | null;
}

/** A logger like production's (the canary registered as a secret), into `lines`. */
export function capturingDeps(core: Core, lines: string[]) {
  return {
    ...core.deps,
    options: { ...core.deps.options, WANDB_API_KEY: CANARY },
    secrets: [CANARY],
    log: createLogger({ secrets: [CANARY], write: (line) => lines.push(line) }),
  };
}

/**
 * Gaps this suite found whose fix is outside its scope (reported to the lead): a request the
 * resolver lets through and Vertex refuses. Each is matched narrowly and has its own todo test.
 */
export const KNOWN_VERTEX_GAPS: RegExp[] = [
  /replica count of the first worker pool \(the chief\) cannot be greater than 1/,
];

export async function deliverAndCheck(
  core: Core,
  body: Buffer,
  what: string,
  gaps: RegExp[] = KNOWN_VERTEX_GAPS,
): Promise<Delivered> {
  const lines: string[] = [];
  const deps = capturingDeps(core, lines);
  const jobsBefore = core.vertex.control.jobs().length;
  const eventsBefore = core.events.length;
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`delivery did not settle within ${HANG_MS} ms: ${what}`)),
      HANG_MS,
    );
  });
  let outcome: Outcome;
  try {
    outcome = await Promise.race([
      handleDelivery(
        { body, attributes: {}, messageId: `prop-${++deliveries}`, deliveryAttempt: 1 },
        deps,
      ),
      hang,
    ]);
  } catch (err) {
    assert.fail(
      `delivery threw (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}) for ${what}`,
    );
  } finally {
    clearTimeout(timer);
  }
  const jobs = core.vertex.control.jobs();
  const events = core.events.slice(eventsBefore);
  const made = jobs.length - jobsBefore;
  assert.ok(
    outcome.state === "submitted" || outcome.state === "rejected",
    `outcome ${outcome.state} for ${what}`,
  );
  assert.equal(
    made,
    outcome.state === "submitted" ? 1 : 0,
    `jobs created: ${made}, outcome ${outcome.state}, for ${what}`,
  );
  if (outcome.state === "submitted") {
    assert.ok(
      jobs.some((j) => j.labels["launch-id"] === outcome.launchId),
      `no job labelled launch-id=${outcome.launchId}`,
    );
  }
  const rejected = events.find((e) => e.launch_id === outcome.launchId && e.state === "rejected");
  let error: Delivered["error"] = null;
  if (outcome.state === "rejected") {
    assert.ok(rejected?.error, `no rejected event with an error for ${what}`);
    error = rejected.error as NonNullable<Delivered["error"]>;
    const known =
      error.kind === "vertex_rejected" && gaps.some((g) => g.test(error?.message ?? ""));
    assert.ok(
      INPUT_KINDS.has(error.kind) || known,
      `rejected as ${error.kind} ("${error.message}"): the input reached Vertex and was refused there, so the resolver let through a request Vertex does not accept; input: ${what}`,
    );
    if (error.issues.length === 0 && !known) {
      assert.match(
        error.message,
        /^the message body /,
        `an error with no issue must be about the whole body: ${error.message}`,
      );
    }
    for (const issue of error.issues) {
      assert.equal(typeof issue.path, "string");
      assert.ok(issue.message.length > 0, `an issue at ${issue.path} says nothing`);
    }
  }
  const seen = JSON.stringify(events) + lines.join("\n");
  assert.ok(
    !seen.includes(CANARY),
    `the canary secret appeared in an event or log line for ${what}`,
  );
  return { outcome, error };
}

/** A short description of an input for failure messages (never the whole of a huge one). */
export function describe(body: Buffer): string {
  const text = body.toString("utf8");
  return text.length > 300 ? `${text.slice(0, 300)}... (${body.length} bytes)` : text;
}

/** Every launch record in the core's state bucket (launches/ and rejected/), as JSON text. */
export async function allRecordsText(core: Core): Promise<string> {
  const store = core.deps.store;
  const paths = [...(await store.list("launches/")), ...(await store.list("rejected/"))];
  const records = await Promise.all(paths.map(async (p) => (await store.read(p.path))?.record));
  return JSON.stringify(records);
}
