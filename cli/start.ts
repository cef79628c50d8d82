// `vertex-dispatch start [--once]` (what `npm start` runs): the whole system on local
// emulators (SPEC §9), a demo queue and staging bucket, and a demo launch whose status
// events are printed as they arrive. Ctrl-C stops everything it started.
// With --once it exits 0 once the demo launch has finished, non-zero if it fails.
import { randomBytes } from "node:crypto";
import { pubsubMissing } from "../local/pubsub/index.js";
import { DEMO_QUEUE, demoCurlLine, demoMessage } from "../local/stack/demo.js";
import { type Stack, type StatusEventJson, startStack } from "../local/stack/stack.js";
import { flags } from "./cli_env.js";
import type { Env } from "./main.js";

const USAGE = "start [--once] [--quiet]";
const ONCE_TIMEOUT_MS = 120_000;
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
    if (stack.env[name]) say(`  export ${name}=${stack.env[name]}`);
  }
  if (stack.webhook) {
    say(`  export INGEST_URL=${stack.webhook.url}`);
    say(`  export WEBHOOK_TOKEN=${stack.webhook.token}`);
    say("");
    say(`The ingest function (W&B webhooks) is on ${stack.webhook.url}. To launch the demo queue`);
    say("through it, as a W&B webhook automation would:");
    say(`  ${demoCurlLine(stack.webhook.url, stack.webhook.token, stack.webhook.signingSecret)}`);
  }
  say("");

  const runId = `demo-${randomBytes(3).toString("hex")}`;
  const messageId = await stack.publishLaunch(demoMessage(runId));
  say(`demo launch published to ${DEMO_QUEUE}: run_id ${runId}, message ${messageId}`);

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
        (e) =>
          e.run_id === runId &&
          ["finished", "rejected", "failed", "preempted", "stopped"].includes(e.state),
        ONCE_TIMEOUT_MS,
      );
      printNew();
      clearInterval(ticker);
      if (event.state !== "finished") return stop(1);
      say(`demo launch finished: ${String(event.job_name)}`);
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
