// Two loopback listeners that refuse every request, for the build-time rehearsal
// (shared/dispatch/rehearse.ts): an HTTP/1.1 one that answers 404 with a JSON API error
// (what Storage says of a bucket or object that does not exist; not retried), and an
// HTTP/2 one that answers each gRPC call trailers-only with status 12 UNIMPLEMENTED (not
// retried by google-gax or Pub/Sub). They accept nothing and store nothing.
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttp2Server, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";

export interface Refuser {
  /** "http://127.0.0.1:PORT": a Storage apiEndpoint. */
  httpUrl: string;
  /** "127.0.0.1:PORT": a plaintext gRPC endpoint (VERTEX_ENDPOINT, PUBSUB_EMULATOR_HOST). */
  grpcHost: string;
  /** What was refused, in order: "GET /storage/v1/b/x" (HTTP), "/pkg.Service/Method" (gRPC). */
  refused: string[];
  /** How many requests carried credentials (an authorization header): none should. */
  authorized: number;
  close(): Promise<void>;
}

const NOT_FOUND = JSON.stringify({
  error: { code: 404, message: "refused: build-time rehearsal", errors: [] },
});

export async function startRefuser(): Promise<Refuser> {
  const refused: string[] = [];
  let authorized = 0;
  const http = createHttpServer((req, res) => {
    refused.push(`${req.method} ${req.url?.split("?")[0]}`);
    if (req.headers.authorization) authorized++;
    req.resume();
    res.writeHead(404, { "content-type": "application/json" }).end(NOT_FOUND);
  });
  const grpc = createHttp2Server();
  grpc.on("stream", (stream, headers) => {
    refused.push(String(headers[":path"]));
    if (headers.authorization) authorized++;
    stream.on("error", () => {});
    stream.respond(
      {
        ":status": 200,
        "content-type": "application/grpc",
        "grpc-status": "12",
        "grpc-message": "refused: build-time rehearsal",
      },
      { endStream: true },
    );
  });
  const [httpPort, grpcPort] = await Promise.all([listen(http), listen(grpc)]);
  return {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    grpcHost: `127.0.0.1:${grpcPort}`,
    refused,
    get authorized() {
      return authorized;
    },
    close: () => Promise.all([stop(http), stop(grpc)]).then(() => {}),
  };
}

function listen(server: Server | Http2Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function stop(server: Server | Http2Server): Promise<void> {
  return new Promise((resolve) => {
    if ("closeAllConnections" in server) server.closeAllConnections();
    server.close(() => resolve());
  });
}
