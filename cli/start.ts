// `vertex-dispatch start [--once]` (what `npm start` runs): the whole system on local
// emulators (SPEC §9), a demo queue and staging bucket, and a demo launch whose status
// events are printed as they arrive. Ctrl-C stops everything it started.
// With --once it exits 0 once the demo launch has finished, non-zero if it fails.
import { randomBytes } from "node:crypto";
import { pubsubMissing } from "../local/pubsub/index.js";
import { DEMO_QUEUE, demoMessage } from "../local/stack/demo.js";
import { type Stack, type StatusEventJson, startStack } from "../local/stack/stack.js";
import { pushDemoItem, waitForItem } from "../local/stack/wandb_demo.js";
import { LOCAL_WANDB_API_KEY } from "../local/wandb/index.js";
import { flags } from "./cli_env.js";
import type { Env } from "./main.js";

const USAGE = "start [--once] [--quiet]";
const ONCE_TIMEOUT_MS = 120_000;
const FINAL = ["finished", "rejected", "failed", "preempted", "stopped"];
/** What another shell needs to run the CLI (submit, status, cancel, poll) against the stack. */
const EXPORTED = [
  "PUBSUB_EMULATOR_HOST",
  "GCS_ENDPOINT",
  "VERTEX_ENDPOINT",
  "VERTEX_REST_ENDPOINT",
  "GOOGLE_CLOUD_PROJECT",
  "VERTEX_REGION",
  "STATE_BUCKET",
  "CONFIG_BUCKET",
  "QUEUE_CONFIG_DIR",
  "DEFAULT_JOB_SERVICE_ACCOUNT",
  "METADATA_SERVER_DETECTION",
  "WANDB_BASE_URL",
  "WANDB_API_KEY",
  "WANDB_QUEUES",
];

export async function start(argv: string[], env: Env): Promise<number> {
  const f = flags(argv, { once: { type: "boolean" }, quiet: { type: "boolean" } }, USAGE);
  const missing = pubsubMissing();
  if (missing) {
    process.stderr.write(`vertex-dispatch start: cannot run the local stack: ${missing}\n`);
    return 1;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  let stack: Stack;
  try {
    stack = await startStack({
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
        if (!f.quiet) say(`  [${fn}] ${line}`);
      },
    });
  } catch (err) {
    process.stderr.write(
      `vertex-dispatch start: the local stack did not start: ${(err as Error).message}\n`,
    );
    return 1;
  }

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return code;
    stopping = true;
    say("stopping the local stack...");
    await stack.close();
    return code;
  };

  say("");
  say("The local stack is up. To use it from another shell:");
  for (const name of EXPORTED) {
    // Only the local stand-in key is printed; a key of the user's own is a secret.
    if (name === "WANDB_API_KEY" && stack.env[name] !== LOCAL_WANDB_API_KEY) {
      say("  export WANDB_API_KEY=...   # your own key, as set in this shell (not printed)");
    } else if (stack.env[name]) say(`  export ${name}=${stack.env[name]}`);
  }
  say("");

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

  const printed = new Set<StatusEventJson>();
  const printNew = () => {
    for (const e of stack.events) {
      if (printed.has(e)) continue;
      printed.add(e);
      const error = e.error ? ` error: ${(e.error as { message?: string }).message ?? ""}` : "";
      say(
        `status: ${e.run_id ?? "-"} ${String(e.previous_state ?? "new")} -> ${e.state}${e.job_name ? ` (${String(e.job_name)})` : ""}${error}`,
      );
    }
  };
  const ticker = setInterval(printNew, 200);

  if (f.once) {
    try {
      const event = await stack.waitForEvent(
        (e) => e.run_id === runId && FINAL.includes(e.state),
        ONCE_TIMEOUT_MS,
      );
      const item = await wandbRun;
      const bridged = item.run_name
        ? await stack.waitForEvent(
            (e) => e.run_id === item.run_name && FINAL.includes(e.state),
            ONCE_TIMEOUT_MS,
          )
        : null;
      printNew();
      clearInterval(ticker);
      if (event.state !== "finished" || bridged?.state !== "finished") return stop(1);
      say(`demo launch finished: ${String(event.job_name)}`);
      say(
        `W&B queue launch finished: ${String(bridged.job_name)} (item ${itemId}, run ${item.run_name})`,
      );
      return stop(0);
    } catch (err) {
      clearInterval(ticker);
      process.stderr.write(`vertex-dispatch start --once: ${(err as Error).message}\n`);
      return stop(1);
    }
  }

  say("running; press Ctrl-C to stop");
  return new Promise<number>((resolve) => {
    const onSignal = () => {
      clearInterval(ticker);
      void stop(0).then(resolve);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
}
