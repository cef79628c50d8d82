// The checks that need only the request line and headers, made before a byte of the body
// is read (SPEC §8): a configured token, POST, the bearer token, a JSON content type, and
// a declared length within the limit. Pure.
import type { IncomingHttpHeaders } from "node:http";
import { type Answer, refusal } from "./answers.js";
import { checkBearer, type Equal } from "./auth.js";
import { declaredLength } from "./body.js";
import type { IngestOptions } from "./options.js";

export interface RequestHead {
  method: string | undefined;
  headers: IncomingHttpHeaders;
}

type HeadOptions = Pick<IngestOptions, "WEBHOOK_TOKEN" | "MAX_MESSAGE_BYTES">;

const BEARER_FIX: Record<"missing" | "malformed" | "wrong", string> = {
  missing:
    "no Authorization header: in W&B, set the webhook's Access token to the team secret that holds the ingest token (W&B then sends Authorization: Bearer <token>)",
  malformed: "the Authorization header is not of the form `Bearer <token>`",
  wrong:
    "the bearer token does not match: the webhook's Access token secret in W&B must hold the same value as the function's WEBHOOK_TOKEN",
};

/** The refusal for a request whose head is already wrong, or null to go on and read the body. */
export function checkHead(head: RequestHead, options: HeadOptions, equal?: Equal): Answer | null {
  if (options.WEBHOOK_TOKEN === undefined) {
    return refusal(
      500,
      "not_configured",
      "the ingest function has no webhook token configured, so it refuses every request; its log says how to fix this",
    );
  }
  if (head.method !== "POST") {
    return refusal(
      405,
      "method_not_allowed",
      `method ${head.method ?? "?"} is not allowed: W&B webhooks POST a JSON launch message`,
      [],
      { Allow: "POST" },
    );
  }
  const bearer = checkBearer(header(head.headers.authorization), options.WEBHOOK_TOKEN, equal);
  if (!bearer.ok) {
    const message = BEARER_FIX[bearer.problem];
    return refusal(401, "unauthorized", message, [{ path: "headers.authorization", message }], {
      "WWW-Authenticate": 'Bearer realm="vertex-dispatch ingest"',
    });
  }
  const type = contentTypeProblem(head.headers["content-type"]);
  if (type) {
    return refusal(415, "unsupported_media_type", type, [
      { path: "headers.content-type", message: type },
    ]);
  }
  const length = declaredLength(header(head.headers["content-length"]));
  if (length !== null && length > options.MAX_MESSAGE_BYTES) return tooLarge(length, options);
  return null;
}

export function tooLarge(bytes: number, options: Pick<IngestOptions, "MAX_MESSAGE_BYTES">): Answer {
  const message = `the body is ${bytes} bytes or more, over the ${options.MAX_MESSAGE_BYTES}-byte limit of a launch message: move large run_config values into a W&B artifact and pass its name`;
  return refusal(413, "payload_too_large", message, [{ path: "body", message }]);
}

/** What is wrong with a Content-Type header, or null for application/json (UTF-8). */
export function contentTypeProblem(value: string | undefined): string | null {
  const fix = "send Content-Type: application/json (W&B webhooks do)";
  if (value === undefined || value.trim() === "") return `no Content-Type header: ${fix}`;
  const [type = "", ...params] = value.split(";").map((p) => p.trim().toLowerCase());
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (type !== "application/json") return `Content-Type ${shown} is not JSON: ${fix}`;
  for (const param of params) {
    const [name, raw = ""] = param.split("=", 2).map((p) => p.trim());
    if (name === "charset" && !["utf-8", "utf8"].includes(raw.replace(/^"|"$/g, ""))) {
      return `Content-Type ${shown} has a charset other than UTF-8: a launch message is UTF-8 JSON`;
    }
  }
  return null;
}

/** One header value (Node joins repeated headers; arrays only for set-cookie). */
export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}
