// `vertex-dispatch submit`: builds a launch (flags or --message FILE), prechecks it the way
// the dispatcher would (shared/precheck.ts), publishes it to launch-jobs and prints its
// run id and message id. --wait prints the first outcome (submitted with the job, console
// URL and logs command; queued with its place; rejected with every error line) and exits
// by it; --follow prints every state change until a final state.
//
// Invariant: the watch's subscription exists before the publish, so no event is missed.
import { randomUUID } from "node:crypto";
import type { PubSub } from "@google-cloud/pubsub";
import { DispatchError } from "../shared/errors.js";
import { type Prechecked, precheckLaunch } from "../shared/precheck.js";
import { FINAL_STATES, type RecordState } from "../shared/schemas/launch_record.js";
import { launchStore } from "../shared/storage/launch_store.js";
import { bool, type FlagValues, need, nonNegativeInt, str, usageError } from "./args.js";
import { backlogPlace } from "./backlog.js";
import { type CliEnv, cliEnv, pubsubFor, storageFor } from "./cli_env.js";
import { SPECS } from "./commands.js";
import { EXIT } from "./exit_codes.js";
import { type Followed, follow } from "./follow.js";
import type { Ctx } from "./io.js";
import { withWatch } from "./watch.js";

const spec = SPECS.submit;
const WAIT_DEFAULT_S = 300;

export async function submit(values: FlagValues, _p: string[], ctx: Ctx): Promise<number> {
  const wait = bool(values, "wait");
  const followAll = bool(values, "follow");
  if (wait && followAll) throw usageError(spec, "--wait and --follow exclude each other");
  const timeoutS = nonNegativeInt(spec, values, "timeout", followAll ? 0 : WAIT_DEFAULT_S);
  const queue = need(spec, values, "queue");
  const { launchFromFlags } = await import("./launch_flags.js");
  const raw = await launchFromFlags(values, queue);
  const c = cliEnv(ctx.env, { project: str(values, "project"), region: str(values, "region") });
  const checked = await precheck(raw, values, c);
  for (const w of checked.warnings) ctx.err.line(`${ctx.err.style.yellow("warning:")} ${w}`);
  const pubsub = pubsubFor(c);
  if (!wait && !followAll) {
    try {
      const messageId = await publish(pubsub, c, checked);
      printPublished(ctx, values, checked, messageId, null);
      return EXIT.ok;
    } finally {
      await pubsub.close();
    }
  }
  const store = launchStore(storageFor(c).bucket(c.stateBucket));
  const watchOptions = {
    topic: c.statusTopic,
    keep: (e: { launch_id: string }) => e.launch_id === checked.launchId,
    filter: `attributes.launch_id = "${checked.launchId}"`,
  };
  return withWatch(pubsub, watchOptions, ctx.io.onInterrupt, async (watch) => {
    const messageId = await publish(pubsub, c, checked);
    if (!bool(values, "json")) printPublished(ctx, values, checked, messageId, null);
    const result = await follow({
      watch,
      ctx,
      json: bool(values, "json"),
      done: (e) => wait || FINAL_STATES.has(e.state as RecordState),
      timeoutMs: timeoutS * 1000,
      waitingFor: "waiting for the dispatcher",
      placeOf: (e) =>
        e.state === "queued" ? backlogPlace(store, queue, checked.runId) : Promise.resolve(null),
    });
    if (bool(values, "json")) printPublished(ctx, values, checked, messageId, result);
    return ending(result, ctx, checked, followAll ? "follow" : "wait", timeoutS);
  });
}

async function precheck(raw: Record<string, unknown>, values: FlagValues, c: CliEnv) {
  const attributes: Record<string, string> = {};
  const key = str(values, "idempotency-key");
  // Without a run_id, the key would be the message id, unknown until published: a fresh
  // key makes the launch (and its run id) known now, and still one launch per submit.
  if (key) attributes.idempotency_key = key;
  else if (raw.run_id === undefined) attributes.idempotency_key = randomUUID();
  const storage = storageFor(c);
  const { queueStore } = await import("./queue_store.js");
  const checked = await precheckLaunch(raw, attributes, {
    queues: queueStore(c, () => storage).source,
    store: launchStore(storage.bucket(c.stateBucket)),
    maxMessageBytes: c.maxMessageBytes,
    defaults: {
      project: c.project,
      region: c.region,
      // The dispatcher's default account is its own setting; a stand-in lets a queue that
      // relies on it pass here (the dispatcher still checks the real one).
      defaultServiceAccount:
        c.defaultServiceAccount ?? `dispatcher-default@${c.project}.iam.gserviceaccount.com`,
      wandbApiKey: "<redacted>",
    },
  });
  return Object.assign(checked, { attributes });
}

async function publish(
  pubsub: PubSub,
  c: CliEnv,
  checked: Prechecked & { attributes: Record<string, string> },
): Promise<string> {
  try {
    return await pubsub
      .topic(c.launchTopic)
      .publishMessage({ data: checked.body, attributes: checked.attributes });
  } catch (err) {
    throw new DispatchError(
      "pubsub_unavailable",
      `publishing to ${c.launchTopic} in project ${c.project} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function printPublished(
  ctx: Ctx,
  values: FlagValues,
  checked: Prechecked,
  messageId: string,
  result: Followed | null,
): void {
  const queue = checked.message.queue;
  if (bool(values, "json")) {
    const out = {
      queue,
      run_id: checked.runId,
      launch_id: checked.launchId,
      message_id: messageId,
      state: result?.last?.state ?? null,
      ended: result?.end ?? null,
      events: result?.events ?? [],
    };
    ctx.out.line(JSON.stringify(out, null, 2));
    return;
  }
  ctx.out.line(`published run_id ${checked.runId} to queue ${queue} (message ${messageId})`);
  if (!bool(values, "wait") && !bool(values, "follow")) {
    ctx.err.line(
      `see what happened: vertex-dispatch status --queue ${queue} --run-id ${checked.runId} (or submit --wait)`,
    );
  }
}

function ending(
  result: Followed,
  ctx: Ctx,
  checked: Prechecked,
  how: "wait" | "follow",
  timeoutS: number,
): number {
  const where = `vertex-dispatch status --queue ${checked.message.queue} --run-id ${checked.runId}`;
  if (result.end === "interrupted") {
    ctx.err.line(`stopped waiting (Ctrl-C); the launch goes on: ${where}`);
    return EXIT.interrupted;
  }
  if (result.end === "timeout") {
    ctx.err.line(
      `gave up waiting after ${timeoutS} s (last state: ${result.last?.state ?? "none seen"}): ${where}`,
    );
    return EXIT.timeout;
  }
  const state = result.last?.state ?? "unknown";
  if (how === "wait") return state === "rejected" ? EXIT.launch_failed : EXIT.ok;
  return state === "finished" ? EXIT.ok : EXIT.launch_failed;
}
