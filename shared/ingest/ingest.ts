// One webhook request, after its head passed `checkHead` and its body was read within the
// limit: the signature, the launch message, its idempotency key, the publish (SPEC §8).
//
// Invariants: nothing is published unless the caller is authenticated and the body is a
// valid launch message; one request is at most one publish, so a refusal publishes
// nothing; the published data is the body exactly as received, with the attribute
// `idempotency_key` the dispatcher keys the launch on (so a W&B retry of one event, same
// body, is one launch, and two events are two).
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { DispatchError } from "../errors.js";
import type { Logger } from "../log.js";
import { launchIdFor, runIdFor } from "../resolve/ids.js";
import { type LaunchMessage, parseLaunchMessage } from "../schemas/message.js";
import { type Answer, accepted, kindOf, refusal } from "./answers.js";
import { checkSignature, type Equal } from "./auth.js";
import type { IngestOptions } from "./options.js";
import { header } from "./request_head.js";

export interface IngestDeps {
  options: Pick<IngestOptions, "WEBHOOK_SIGNING_SECRET" | "LAUNCH_TOPIC">;
  /** Publishes one message to the launch topic; resolves with its message id. */
  publish(data: Buffer, attributes: Record<string, string>): Promise<string>;
  log: Logger;
  equal?: Equal;
}

export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Pub/Sub caps an attribute value at 1024 bytes. */
const MAX_KEY_BYTES = 1024;

export async function handleWebhook(request: WebhookRequest, deps: IngestDeps): Promise<Answer> {
  const refused = checkBody(request, deps);
  if ("answer" in refused) return refused.answer;
  const { message, key } = refused;
  const ids = { run_id: runIdFor(message, key.value), launch_id: launchIdFor(key.value) };
  const fields = { queue: message.queue, ...ids, idempotency_key_from: key.from };
  let messageId: string;
  try {
    messageId = await deps.publish(request.body, { idempotency_key: key.value });
  } catch (err) {
    deps.log.error("publishing the launch failed; answered 503 so W&B retries", {
      ...fields,
      error: err,
    });
    return refusal(
      503,
      "pubsub_unavailable",
      `publishing the launch to ${deps.options.LAUNCH_TOPIC} failed (${describe(err)}); nothing was published: retry the request (W&B retries a failed delivery)`,
      [],
      { "Retry-After": "10" },
    );
  }
  deps.log.info("launch published", { ...fields, message_id: messageId });
  return accepted({ message_id: messageId, queue: message.queue, ...ids });
}

type Checked =
  | { answer: Answer }
  | { message: LaunchMessage; key: { value: string; from: "header" | "body" } };

/** Signature, JSON, schema and idempotency key, in that order; the first refusal wins. */
function checkBody(request: WebhookRequest, deps: IngestDeps): Checked {
  const secret = deps.options.WEBHOOK_SIGNING_SECRET;
  if (secret !== undefined) {
    const given = header(request.headers["x-wandb-signature"]);
    const signature = checkSignature(given, request.body, secret, deps.equal);
    if (!signature.ok) return { answer: logged(deps, signatureRefusal(signature.problem)) };
  }
  const parsed = parseJson(request.body);
  if ("answer" in parsed) return { answer: logged(deps, parsed.answer) };
  let message: LaunchMessage;
  try {
    message = parseLaunchMessage(parsed.value);
  } catch (err) {
    if (!(err instanceof DispatchError)) throw err;
    return { answer: logged(deps, refusal(400, "invalid_message", err.message, err.issues)) };
  }
  const key = idempotencyKey(header(request.headers["x-idempotency-key"]), parsed.value);
  if ("answer" in key) return { answer: logged(deps, key.answer) };
  return { message, key };
}

function signatureRefusal(problem: "missing" | "malformed" | "wrong"): Answer {
  const message = {
    missing:
      "no X-Wandb-Signature header, and this function has a signing secret: give the W&B webhook the same signing secret as WEBHOOK_SIGNING_SECRET",
    malformed: "the X-Wandb-Signature header is not an HMAC-SHA256 in base64 (W&B's form) or hex",
    wrong:
      "the X-Wandb-Signature does not match the body: the webhook's signing secret in W&B must equal WEBHOOK_SIGNING_SECRET, and the body must reach the function unchanged",
  }[problem];
  return refusal(401, "unauthorized", message, [{ path: "headers.x-wandb-signature", message }]);
}

function parseJson(body: Buffer): { value: unknown } | { answer: Answer } {
  const bad = (message: string) => ({
    answer: refusal(400, "invalid_message", message, [{ path: "body", message }]),
  });
  if (body.length === 0) return bad("the body is empty: send a JSON launch message (SPEC §2)");
  let text: string;
  try {
    // ignoreBOM keeps a BOM, which JSON.parse then refuses, as the dispatcher would.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return bad("the body is not valid UTF-8: send the launch message as UTF-8 JSON");
  }
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return bad(
      `the body is not JSON (${(err as Error).message}): check the payload template; every \${...} W&B fills must sit inside a JSON string`,
    );
  }
}

/**
 * X-Idempotency-Key when sent, else a hash of the canonical body: keys sorted, no
 * whitespace, so a byte-identical retry and a re-serialised one are the same launch.
 */
export function idempotencyKey(
  given: string | undefined,
  body: unknown,
): { value: string; from: "header" | "body" } | { answer: Answer } {
  if (given !== undefined) {
    const value = given.trim();
    const bytes = Buffer.byteLength(value, "utf8");
    if (bytes >= 1 && bytes <= MAX_KEY_BYTES) return { value, from: "header" };
    const message = `X-Idempotency-Key must be 1 to ${MAX_KEY_BYTES} bytes, got ${bytes}: send a short stable id of the event, or leave the header out`;
    return {
      answer: refusal(400, "invalid_message", message, [
        { path: "headers.x-idempotency-key", message },
      ]),
    };
  }
  const digest = createHash("sha256").update(canonicalJson(body), "utf8").digest("hex");
  return { value: `ingest-body-sha256:${digest}`, from: "body" };
}

/** JSON with object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function logged(deps: IngestDeps, answer: Answer): Answer {
  const error = answer.body.error as { message?: string } | undefined;
  deps.log.warning("webhook refused", {
    status: answer.status,
    kind: kindOf(answer),
    reason: error?.message,
  });
  return answer;
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; details?: unknown; message?: unknown };
  const text = String(e?.details || e?.message || err);
  return typeof e?.code === "number" ? `gRPC code ${e.code}: ${text}` : text;
}
