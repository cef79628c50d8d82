// `vertex-dispatch start [--once]` (what `npm start` runs): the whole system on local
// emulators (SPEC §9), a demo queue and staging bucket, and a demo launch whose status
// events are printed as they arrive. Ctrl-C stops everything it started.
// With --once it exits 0 once the demo launch has finished, non-zero if it fails.
import { randomBytes } from "node:crypto";
import { pubsubMissing } from "../local/pubsub/index.js";
import { DEMO_QUEUE, demoCurlLine, demoMessage } from "../local/stack/demo.js";
import { type Stack, type StatusEventJson, startStack } from "../local/stack/stack.js";
import { pushDemoItem, waitForItem } from "../local/stack/wandb_demo.js";
import { LOCAL_WANDB_API_KEY } from "../local/wandb/index.js";
import { bool, type FlagValues } from "./args.js";
import { EXIT } from "./exit_codes.js";
import type { Ctx } from "./io.js";
import { environmentLines } from "./local_env.js";

const ONCE_TIMEOUT_MS = 120_000;
const FINAL = ["finished", "rejected", "failed", "preempted", "stopped"];
/** Beyond the endpoints: what the CLI (submit, status, queues, poll) needs against the stack. */
const EXTRA = [
  "VERTEX_REGION",
  "STATE_BUCKET",
  "CONFIG_BUCKET",
  "QUEUE_CONFIG_DIR",
  "DEFAULT_JOB_SERVICE_ACCOUNT",
  "WANDB_BASE_URL",
  "WANDB_QUEUES",
];

type Say = (line: string) => void;

export async function start(values: FlagValues, _p: string[], ctx: Ctx): Promise<number> {
  const f = { once: bool(values, "once"), quiet: bool(values, "quiet") };
  const missing = pubsubMissing();
  if (missing) {
    ctx.err.line(`vertex-dispatch start: cannot run the local stack: ${missing}`);
    return EXIT.cloud;
  }
  const say: Say = (line) => ctx.out.line(line);
  let stack: Stack;
  try {
    stack = await bootStack(ctx.env, f.quiet, say);
  } catch (err) {
    ctx.err.line(`vertex-dispatch start: the local stack did not start: ${(err as Error).message}`);
    return EXIT.cloud;
  }
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return code;
    stopping = true;
    say("stopping the local stack...");
    await stack.close();
    return code;
  };
  printHowToUse(stack, say);
  const demo = await launchDemos(stack, say);
  const printer = statusPrinter(stack, say);
  if (f.once) return stop(await awaitDemos(stack, demo, printer, ctx, say));
  say("running; press Ctrl-C to stop");
  return new Promise<number>((resolve) => {
    const off = ctx.io.onInterrupt(() => {
      off();
      printer.stop();
      void stop(EXIT.ok).then(resolve);
    });
  });
}

/** The stack on its fixed ports, with a Vertex clock slow enough to watch the demo job. */
function bootStack(env: Ctx["env"], quiet: boolean, say: Say): Promise<Stack> {
  return startStack({
    env,
    ports: "fixed",
    // Long enough in each state that a tick every 2 s sees every state of the demo job.
    vertexClock: {
      mode: "timed",
      queuedSeconds: 4,
      pendingSeconds: 4,
      runningSeconds: 8,
      cancellingSeconds: 2,
    },
    pollIntervalMs: 2000,
    log: say,
    functionLog: (fn, line) => {
      if (!quiet) say(`  [${fn}] ${line}`);
    },
  });
}

/** The export lines for another shell, the webhook's curl line, and what to try next. */
function printHowToUse(stack: Stack, say: Say): void {
  say("");
  say("The local stack is up. To use it from another shell, paste:");
  say("");
  printEnvironment(stack, say);
  if (stack.webhook) {
    say("");
    say(`export INGEST_URL=${stack.webhook.url}`);
    say(`export WEBHOOK_TOKEN=${stack.webhook.token}`);
    say("");
    say(`The ingest function (W&B webhooks) is on ${stack.webhook.url}. To launch the demo queue`);
    say("through it, as a W&B webhook automation would:");
    say(`  ${demoCurlLine(stack.webhook.url, stack.webhook.token, stack.webhook.signingSecret)}`);
  }
  say("");
  say("Then, in that shell:");
  say("  vertex-dispatch queues push my-queue.yaml      # add your own queue (validated first)");
  say(`  vertex-dispatch submit --queue ${DEMO_QUEUE} --entity acme --wandb-project vision \\`);
  say("    --image us-central1-docker.pkg.dev/acme-ml/train/resnet:1 --follow");
  say("  gcloud ai custom-jobs list --region=us-central1   # gcloud against the Vertex emulator");
  say("(vertex-dispatch is ./bin/vertex-dispatch.mjs here, or npx vertex-dispatch)");
  say("");
}

function printEnvironment(stack: Stack, say: Say): void {
  const extra: Record<string, string | undefined> = Object.fromEntries(
    EXTRA.map((name) => [name, stack.env[name]]),
  );
  // Only the local stand-in key is printed; a key of the user's own is a secret.
  const ownKey = stack.env.WANDB_API_KEY && stack.env.WANDB_API_KEY !== LOCAL_WANDB_API_KEY;
  if (!ownKey) extra.WANDB_API_KEY = stack.env.WANDB_API_KEY;
  for (const line of environmentLines({
    project: stack.project,
    pubsubHost: stack.env.PUBSUB_EMULATOR_HOST,
    gcsUrl: stack.gcs.url,
    vertexGrpc: stack.vertex.grpcAddress,
    vertexRest: stack.vertex.restUrl,
    extra,
  }))
    say(line);
  if (ownKey) say("export WANDB_API_KEY=...   # your own key, as set in this shell (not printed)");
}

interface Demos {
  runId: string;
  itemId: string;
  wandbRun: Promise<Awaited<ReturnType<typeof waitForItem>>>;
}

/** The demo launch, published directly, and the same demo as an item on the W&B run queue. */
async function launchDemos(stack: Stack, say: Say): Promise<Demos> {
  const runId = `demo-${randomBytes(3).toString("hex")}`;
  const messageId = await stack.publishLaunch(demoMessage(runId));
  say(`demo launch published to ${DEMO_QUEUE}: run_id ${runId}, message ${messageId}`);
  // The same demo through W&B's Launch button: an item on the W&B run queue, which the
  // bridge (in the poll function) pops, publishes and acks.
  const itemId = await pushDemoItem(stack.wandb);
  say(`demo W&B run-queue item ${itemId} pushed to ${stack.env.WANDB_QUEUES?.split("=")[0]}`);
  const wandbRun = waitForItem(stack.wandb, itemId, ["CLAIMED", "FAILED"], ONCE_TIMEOUT_MS).then(
    (item) => {
      say(
        `W&B item ${itemId}: ${item.state}${item.run_name ? ` as run ${item.run_name}` : ""}${item.error ? ` (${item.error.message})` : ""}`,
      );
      return item;
    },
  );
  wandbRun.catch((err: Error) => say(`W&B item ${itemId}: ${err.message}`));
  return { runId, itemId, wandbRun };
}

interface Printer {
  /** Prints the events not printed yet. */
  flush(): void;
  stop(): void;
}

/** Prints every status event as it arrives (checked every 200 ms). */
function statusPrinter(stack: Stack, say: Say): Printer {
  const printed = new Set<StatusEventJson>();
  const flush = () => {
    for (const e of stack.events) {
      if (printed.has(e)) continue;
      printed.add(e);
      const error = e.error ? ` error: ${(e.error as { message?: string }).message ?? ""}` : "";
      say(
        `status: ${e.run_id ?? "-"} ${String(e.previous_state ?? "new")} -> ${e.state}${e.job_name ? ` (${String(e.job_name)})` : ""}${error}`,
      );
    }
  };
  const ticker = setInterval(flush, 200);
  return { flush, stop: () => clearInterval(ticker) };
}

/** --once: both demo launches to a final state; 0 when both finished. */
async function awaitDemos(
  stack: Stack,
  demo: Demos,
  printer: Printer,
  ctx: Ctx,
  say: Say,
): Promise<number> {
  const final = (runId: string) =>
    stack.waitForEvent((e) => e.run_id === runId && FINAL.includes(e.state), ONCE_TIMEOUT_MS);
  try {
    const event = await final(demo.runId);
    const item = await demo.wandbRun;
    const bridged = item.run_name ? await final(item.run_name) : null;
    printer.flush();
    printer.stop();
    if (event.state !== "finished" || bridged?.state !== "finished") return EXIT.launch_failed;
    say(`demo launch finished: ${String(event.job_name)}`);
    say(
      `W&B queue launch finished: ${String(bridged.job_name)} (item ${demo.itemId}, run ${item.run_name})`,
    );
    return 0;
  } catch (err) {
    printer.stop();
    ctx.err.line(`vertex-dispatch start --once: ${(err as Error).message}`);
    return EXIT.launch_failed;
  }
}
