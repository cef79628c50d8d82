// A counting proxy in front of the dispatch function, standing in for Cloud Run's front end:
// the Pub/Sub emulator pushes to it, it forwards each push unchanged and counts deliveries and
// their answers. A push in flight when the instance is killed fails (socket hang up: 503, so
// Pub/Sub redelivers); a push that arrives while no instance listens waits for the restarted
// one (up to `waitMs`), as Cloud Run queues requests while it starts a new instance.
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

export interface PushCounts {
  deliveries: number;
  acked: number;
  nacked: number;
  /** Pushes that failed in flight (the instance died under them) or found no instance in time. */
  unreachable: number;
  /** The error code of each unreachable push (ECONNRESET: the instance died under it). */
  unreachableCodes: string[];
}

/** The answer a delivery got: its HTTP status, or "unreachable" (the instance died under it). */
export type PushAnswer = number | "unreachable";

export interface CountingProxy {
  url: string;
  counts: PushCounts;
  /** Deliveries forwarded to the function and not answered yet, with when they were forwarded. */
  inFlight(): Array<{ id: number; sinceMs: number }>;
  /** The answer of a delivery, once it has one. */
  answer(id: number): PushAnswer | undefined;
  close(): Promise<void>;
}

function forward(
  url: string,
  req: import("node:http").IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, "content-length": String(body.length) };
    delete headers["transfer-encoding"];
    const upstream = request(url, { method: req.method, headers, agent: false }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on("data", (c: Buffer) => chunks.push(c));
      answer.on("end", () =>
        resolve({
          status: answer.statusCode ?? 500,
          headers: answer.headers,
          body: Buffer.concat(chunks),
        }),
      );
      answer.on("error", reject);
    });
    upstream.on("error", reject);
    upstream.end(body);
  });
}

export async function countingProxy(target: () => string, waitMs = 60_000): Promise<CountingProxy> {
  const counts: PushCounts = {
    deliveries: 0,
    acked: 0,
    nacked: 0,
    unreachable: 0,
    unreachableCodes: [],
  };
  const forwarding = new Map<number, number>();
  const answers = new Map<number, PushAnswer>();
  const server = createServer(async (req, res) => {
    const id = ++counts.deliveries;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        forwarding.set(id, Date.now());
        const answer = await forward(`${target()}${req.url ?? "/"}`, req, body).finally(() =>
          forwarding.delete(id),
        );
        answers.set(id, answer.status);
        if (answer.status >= 200 && answer.status < 300) counts.acked++;
        else counts.nacked++;
        res.writeHead(answer.status, {
          "content-type": String(answer.headers["content-type"] ?? "text/plain"),
        });
        res.end(answer.body);
        return;
      } catch (err) {
        const refused = (err as { code?: string }).code === "ECONNREFUSED";
        if (refused && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        counts.unreachable++;
        counts.unreachableCodes.push(
          refused ? "ECONNREFUSED (no instance in time)" : String((err as { code?: string }).code),
        );
        answers.set(id, "unreachable");
        res.writeHead(503);
        res.end();
        return;
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    inFlight: () => [...forwarding].map(([id, since]) => ({ id, sinceMs: Date.now() - since })),
    answer: (id) => answers.get(id),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
