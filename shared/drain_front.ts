// The drain's view of the HTTP server (issue 14): every request the Functions Framework's
// server receives is one unit of work of the drain, from its arrival (before the
// framework parses the body) until its answer is written. While draining, a request is
// answered at once by `refuse` (dispatch and poll: 503, so Pub/Sub redelivers it soon),
// and never reaches the framework.
//
// Invariant: installed at module load, before the framework creates its server
// (build/src/main.js loads the function's module, then getServer → http.createServer(app));
// the original createServer is back after that one call.
import http from "node:http";
import type { Drain } from "./shutdown.js";

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Dispatch and poll: 503 with Retry-After, which Pub/Sub push treats as a nack. */
export function refuse503(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8", "Retry-After": "1" });
  res.end(
    "shutting_down: this instance is shutting down (SIGTERM); Pub/Sub redelivers the message\n",
  );
}

/** Wraps a request listener so that the drain tracks (or refuses) each request. */
export function drainListener(drain: Drain, app: Listener, refuse: Listener): Listener {
  return (req, res) => {
    if (drain.draining) {
      // Read the body first: closing a socket with unread bytes resets it (the pusher would
      // see ECONNRESET instead of the 503).
      req.once("end", () => refuse(req, res));
      req.resume();
      return;
    }
    void drain.run(
      () =>
        new Promise<void>((answered) => {
          res.once("finish", answered);
          res.once("close", answered);
          app(req, res);
        }),
    );
  };
}

/** What the front gives the shutdown: the framework's server, to stop listening once drained. */
export interface DrainFront {
  /** Stops accepting connections (those open keep their answers); a no-op before the server exists. */
  stopListening(): void;
}

/** Puts `drainListener` in front of the next HTTP server this process creates (the framework's). */
export function installDrainFront(drain: Drain, refuse: Listener = refuse503): DrainFront {
  const original = http.createServer;
  let server: http.Server | undefined;
  const patched = (...args: unknown[]) => {
    http.createServer = original;
    const i = args.findIndex((a) => typeof a === "function");
    if (i >= 0) args[i] = drainListener(drain, args[i] as Listener, refuse);
    server = (original as (...a: unknown[]) => http.Server).apply(http, args);
    return server;
  };
  http.createServer = patched as typeof http.createServer;
  return {
    stopListening: () => {
      server?.close();
    },
  };
}
