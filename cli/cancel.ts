// `vertex-dispatch cancel --queue NAME --run-id R [--wait]`: publishes a cancel message
// (SPEC §7) for a launch that exists; a launch that does not exist is an error at once
// (exit 3), and one that is already final is left alone. --wait prints each state change
// until the launch is final (exit 0 when it ends stopped).
import { DispatchError } from "../shared/errors.js";
import { FINAL_STATES } from "../shared/schemas/launch_record.js";
import { parseLaunchMessage } from "../shared/schemas/message.js";
import { launchStore } from "../shared/storage/launch_store.js";
import { bool, type FlagValues, need, nonNegativeInt, str } from "./args.js";
import { cliEnv, pubsubFor, storageFor } from "./cli_env.js";
import { SPECS } from "./commands.js";
import { EXIT, NotFound } from "./exit_codes.js";
import { follow } from "./follow.js";
import type { Ctx } from "./io.js";
import { type Watch, withWatch } from "./watch.js";

const spec = SPECS.cancel;

type Stored = NonNullable<Awaited<ReturnType<ReturnType<typeof launchStore>["read"]>>>;
type Target = { queue: string; runId: string; json: boolean; record: Stored["record"] };

export async function cancel(values: FlagValues, _p: string[], ctx: Ctx): Promise<number> {
  const queue = need(spec, values, "queue");
  const runId = need(spec, values, "run-id");
  const timeoutS = nonNegativeInt(spec, values, "timeout", 300);
  const body = parseLaunchMessage({ action: "cancel", queue, run_id: runId });
  const c = cliEnv(ctx.env, { project: str(values, "project") });
  const record = await existing(c, queue, runId);
  const t: Target = { queue, runId, json: bool(values, "json"), record };
  if (FINAL_STATES.has(record.state)) {
    if (t.json)
      ctx.out.line(JSON.stringify({ queue, run_id: runId, state: record.state, published: false }));
    else
      ctx.out.line(
        `run_id ${runId} in queue ${queue} is already ${record.state}: nothing to cancel`,
      );
    return EXIT.ok;
  }
  const pubsub = pubsubFor(c);
  const send = () => publishCancel(pubsub, c.launchTopic, body);
  if (!bool(values, "wait")) {
    try {
      printPublished(t, await send(), ctx);
      return EXIT.ok;
    } finally {
      await pubsub.close();
    }
  }
  const options = {
    topic: c.statusTopic,
    keep: (e: { launch_id: string; run_id: string | null }) =>
      e.launch_id === record.launch_id && e.run_id === runId,
    filter: `attributes.launch_id = "${record.launch_id}"`,
  };
  return withWatch(pubsub, options, ctx.io.onInterrupt, (watch) =>
    waitStopped(t, watch, send, timeoutS, ctx),
  );
}

/** The launch's record; NotFound (exit 3) when there is none. */
async function existing(c: ReturnType<typeof cliEnv>, queue: string, runId: string) {
  const store = launchStore(storageFor(c).bucket(c.stateBucket));
  const path = `launches/${queue}/${runId}.json`;
  const stored = await store.read(path);
  if (!stored) {
    throw new NotFound(
      `no launch with run_id ${runId} in queue ${queue} (gs://${c.stateBucket}/${path}): nothing to cancel; list the queue's launches with: vertex-dispatch status --queue ${queue}`,
    );
  }
  return stored.record;
}

async function publishCancel(
  pubsub: ReturnType<typeof pubsubFor>,
  topic: string,
  body: ReturnType<typeof parseLaunchMessage>,
): Promise<string> {
  try {
    return await pubsub.topic(topic).publishMessage({ json: body });
  } catch (err) {
    throw new DispatchError(
      "pubsub_unavailable",
      `publishing the cancel to ${topic} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function printPublished(t: Target, messageId: string, ctx: Ctx): void {
  if (t.json)
    ctx.out.line(
      JSON.stringify({
        queue: t.queue,
        run_id: t.runId,
        state: t.record.state,
        published: true,
        message_id: messageId,
      }),
    );
  else
    ctx.out.line(
      `cancel of run_id ${t.runId} in queue ${t.queue} published (message ${messageId}; it was ${t.record.state})`,
    );
}

/** --wait: publish, then print each state change until the launch is final (0 when stopped). */
async function waitStopped(
  t: Target,
  watch: Watch,
  send: () => Promise<string>,
  timeoutS: number,
  ctx: Ctx,
): Promise<number> {
  const messageId = await send();
  if (!t.json)
    ctx.out.line(
      `cancel of run_id ${t.runId} in queue ${t.queue} published (message ${messageId}; it was ${t.record.state})`,
    );
  const result = await follow({
    watch,
    ctx,
    json: t.json,
    done: (e) => FINAL_STATES.has(e.state),
    timeoutMs: timeoutS * 1000,
    waitingFor: `${t.record.state}, cancelling`,
  });
  const state = result.last?.state ?? null;
  if (t.json) {
    const out = { queue: t.queue, run_id: t.runId, message_id: messageId, state };
    ctx.out.line(JSON.stringify({ ...out, ended: result.end, events: result.events }, null, 2));
  }
  if (result.end === "interrupted") return EXIT.interrupted;
  if (result.end === "timeout") {
    ctx.err.line(
      `gave up waiting after ${timeoutS} s (last state: ${state ?? t.record.state}): vertex-dispatch status --queue ${t.queue} --run-id ${t.runId}`,
    );
    return EXIT.timeout;
  }
  return state === "stopped" ? EXIT.ok : EXIT.launch_failed;
}
