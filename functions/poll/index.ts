// Cloud Function `poll` (gen2, CloudEvent, topic `launch-poll`, ticked every minute by
// Cloud Scheduler). Wiring only: every delivery is one tick. A tick that cannot list
// the active set or Vertex jobs fails, so Pub/Sub redelivers it; per-launch failures are
// logged and left for the next tick (the core changes nothing it could not publish).
import { cloudEvent } from "@google-cloud/functions-framework";
import { bridgeOnTick } from "../../shared/bridge/deps.js";
import { makeClients } from "../../shared/clients.js";
import { dispatchDeps } from "../../shared/dispatch/deps.js";
import { parseOptions } from "../../shared/options.js";
import { type PollDeps, runTick } from "../../shared/poll/poll.js";

const options = parseOptions(process.env);
let deps: Promise<PollDeps> | undefined;
// The W&B run-queue bridge (SPEC §13), after the poll's work; it never fails the tick.
const bridge = bridgeOnTick(options, process.env);

cloudEvent("poll", async () => {
  deps ??= makeClients(options).then((clients) => ({
    ...dispatchDeps(options, clients),
    pageSize: options.POLL_PAGE_SIZE,
  }));
  await runTick(await deps);
  await bridge();
});
