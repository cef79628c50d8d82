// Cloud Function `poll` (gen2, CloudEvent, topic `launch-poll`, ticked every minute by
// Cloud Scheduler). Wiring only: every delivery is one tick. A tick that cannot list
// the active set or Vertex jobs fails, so Pub/Sub redelivers it; per-launch failures are
// logged and left for the next tick (the core changes nothing it could not publish).
// SIGTERM lets the tick in flight finish (up to the grace), flushes, exits 0; a tick that
// arrives while draining gets 503 (shared/shutdown.ts).
import { cloudEvent } from "@google-cloud/functions-framework";
import { bridgeOnTick } from "../../shared/bridge/deps.js";
import { makeClients } from "../../shared/clients.js";
import { dispatchDeps } from "../../shared/dispatch/deps.js";
import { createLogger } from "../../shared/log.js";
import { parseOptions } from "../../shared/options.js";
import { runTick } from "../../shared/poll/poll.js";
import { installShutdown } from "../../shared/shutdown.js";

const options = parseOptions(process.env);
const made = () =>
  makeClients(options).then((clients) => ({
    clients,
    deps: { ...dispatchDeps(options, clients), pageSize: options.POLL_PAGE_SIZE },
  }));
let instance: ReturnType<typeof made> | undefined;
// The W&B run-queue bridge (SPEC §13), after the poll's work; it never fails the tick.
const bridge = bridgeOnTick(options, process.env);

installShutdown({
  graceMs: options.SHUTDOWN_GRACE_SECONDS * 1000,
  log: createLogger({ level: options.LOG_LEVEL, secrets: [options.WANDB_API_KEY] }),
  flush: async () => (instance ? (await instance).deps.publish.flush() : undefined),
  close: async () => (instance ? (await instance).clients.close() : undefined),
});

cloudEvent("poll", async () => {
  instance ??= made();
  await runTick((await instance).deps);
  await bridge();
});
