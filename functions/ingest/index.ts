// Cloud Function `ingest` (gen2, HTTP): the front door W&B webhook automations call
// (SPEC §8). Wiring only: options once per instance, the front before the framework's
// body parsing, and the core per request. SIGTERM lets the requests in flight finish (up to
// the grace), flushes the topic and exits 0; a request arriving while draining gets 503
// with Retry-After (shared/shutdown.ts).
import { http } from "@google-cloud/functions-framework";
import { pubsubClient } from "../../shared/clients.js";
import { refusal } from "../../shared/ingest/answers.js";
import { bodyOf, createFront, installFront, sendAnswer } from "../../shared/ingest/front.js";
import { handleWebhook } from "../../shared/ingest/ingest.js";
import { parseIngestOptions } from "../../shared/ingest/options.js";
import { checkHead, tooLarge } from "../../shared/ingest/request_head.js";
import { createLogger } from "../../shared/log.js";
import { installShutdown } from "../../shared/shutdown.js";

// Parsed once per instance; a bad variable fails start-up here, loudly.
const options = parseIngestOptions(process.env);
const log = createLogger({
  level: options.LOG_LEVEL,
  secrets: [options.WEBHOOK_TOKEN, options.WEBHOOK_SIGNING_SECRET],
});
if (options.WEBHOOK_TOKEN === undefined) {
  log.error(
    "WEBHOOK_TOKEN is not set: every request is refused with 500. Mount the webhook token secret as WEBHOOK_TOKEN (Terraform does) and redeploy",
  );
}
// Installed before the front, so the drain sees each request first (a refusal reads no body).
const draining = refusal(
  503,
  "shutting_down",
  "this instance is shutting down (SIGTERM); send the webhook again in a second",
  [],
  { "Retry-After": "1" },
);
installShutdown({
  graceMs: options.SHUTDOWN_GRACE_SECONDS * 1000,
  log,
  flush: () => topic.flush(),
  close: () => topic.pubsub.close(),
  refuse: (_req, res) => sendAnswer(res, draining),
});

installFront(createFront(options, log));

// Publishes at once (no batching delay): one webhook is one message, answered when sent.
const topic = pubsubClient(options).topic(options.LAUNCH_TOPIC, {
  batching: { maxMessages: 1, maxMilliseconds: 0 },
  gaxOpts: { timeout: 10_000 },
});
const deps = {
  options,
  log,
  publish: (data: Buffer, attributes: Record<string, string>) =>
    topic.publishMessage({ data, attributes }),
};

let warnedNoFront = false;

http("ingest", async (req, res) => {
  // The front answered every refusal of the head already; this repeats the pure check for
  // the case where the front is not in place (then the framework read the body).
  const early = checkHead({ method: req.method, headers: req.headers }, options);
  if (early) return sendAnswer(res, early);
  let body = bodyOf(req);
  if (body === undefined) {
    if (!warnedNoFront) {
      warnedNoFront = true;
      log.warning("the ingest front is not in place: the framework buffered the body");
    }
    body = (req as { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
    if (body.length > options.MAX_MESSAGE_BYTES)
      return sendAnswer(res, tooLarge(body.length, options));
  }
  sendAnswer(res, await handleWebhook({ headers: req.headers, body }, deps));
});
