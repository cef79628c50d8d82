// The front of the ingest function: what runs on each request before the Functions
// Framework touches it.
//
// Why: the framework reads every request body in full (body-parser, limit 1024 MB) before
// it calls the function, answers malformed JSON itself with an HTML 400, and would do
// both before the token is checked. The front checks the head first (`checkHead`), then
// reads the body itself within MAX_MESSAGE_BYTES (`readLimited`) and hands the request
// on only when both passed. The framework's parsers then find the body consumed and skip
// it; the function takes the bytes from `bodyOf(req)`.
//
// Invariant: a refused request's remaining body is never buffered: the answer is sent,
// what is still in flight is read and discarded for a short grace, and the socket is then
// closed unless the body ended within it (then the connection stays open for keep-alive). The answer carries no `Connection: close`: with it Node's server destroys the
// socket as soon as the answer is written, and a client still sending its body then gets
// a reset (EPIPE) before it has read the answer, so W&B would see no status at all.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Logger } from "../log.js";
import { type Answer, kindOf } from "./answers.js";
import { declaredLength, readLimited } from "./body.js";
import type { IngestOptions } from "./options.js";
import { checkHead, header, tooLarge } from "./request_head.js";

type Listener = (req: IncomingMessage, res: ServerResponse) => void;
export type Front = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

const BODIES = new WeakMap<IncomingMessage, Buffer>();
/** How long a refused request's remaining body is discarded before the socket closes. */
const DRAIN_GRACE_MS = 2000;

/** The body the front read for this request, or undefined when the front did not run. */
export function bodyOf(req: IncomingMessage): Buffer | undefined {
  return BODIES.get(req);
}

export function createFront(
  options: Pick<IngestOptions, "WEBHOOK_TOKEN" | "MAX_MESSAGE_BYTES">,
  log: Logger,
): Front {
  return (req, res, next) => {
    const early = checkHead({ method: req.method, headers: req.headers }, options);
    if (early) {
      refuse(req, res, early, log);
      return;
    }
    const length = declaredLength(header(req.headers["content-length"]));
    void readLimited(req, options.MAX_MESSAGE_BYTES, length).then((result) => {
      if (result.ok) {
        BODIES.set(req, result.body);
        next();
      } else if (result.problem === "too_large") {
        refuse(req, res, tooLarge(result.bytes, options), log);
      } else {
        req.socket.destroy();
      }
    });
  };
}

/** Sends a refusal; a body still in flight is discarded, then the connection closed. */
export function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  answer: Answer,
  log: Logger,
): void {
  const error = answer.body.error as { message?: string } | undefined;
  log.warning("webhook refused", {
    status: answer.status,
    kind: kindOf(answer),
    reason: error?.message,
  });
  const pending = !req.complete;
  res.once("finish", () => {
    if (!pending || req.complete) return;
    // Discard the rest; a body that ends within the grace leaves the connection open for
    // the client's next request (keep-alive), one that does not is cut.
    const cut = setTimeout(() => req.socket.destroy(), DRAIN_GRACE_MS).unref();
    req.once("end", () => clearTimeout(cut));
    req.resume();
  });
  sendAnswer(res, answer);
}

export function sendAnswer(res: ServerResponse, answer: Answer): void {
  res.statusCode = answer.status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
  res.end(`${JSON.stringify(answer.body)}\n`);
}

/**
 * Puts `front` before the request listener of the next HTTP server this process creates:
 * the Functions Framework's, which it creates right after loading the function's module
 * (build/src/main.js: getUserFunction, then getServer → http.createServer(app)). Call it
 * at module load; the original createServer is back after that one call.
 */
export function installFront(front: Front): void {
  const original = http.createServer;
  const patched = (...args: unknown[]) => {
    http.createServer = original;
    const i = args.findIndex((a) => typeof a === "function");
    if (i >= 0) {
      const app = args[i] as Listener;
      args[i] = ((req, res) => front(req, res, () => app(req, res))) satisfies Listener;
    }
    return (original as (...a: unknown[]) => http.Server).apply(http, args);
  };
  http.createServer = patched as typeof http.createServer;
}
