// The Cloud Storage emulator: the JSON API subset used by @google-cloud/storage and
// `gcloud storage`, in memory, with a control API for faults, denials and the request
// log. In-process: `await startGcsEmulator({port: 0})`; standalone: local/gcs/main.ts.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Control } from "./control.js";
import { GcsServer } from "./server.js";
import { GcsStore } from "./store.js";

export type { DenyList, Fault, FaultSpec, Operation, RequestRecord } from "./control.js";
export { OPERATIONS } from "./control.js";
export type { LocationType } from "./location.js";
export type { ObjectWriteRate, WriteRateReport } from "./write_rate.js";

export interface GcsEmulatorOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 9023, 0 picks a free one. */
  port?: number;
  /** One line per request served; default silent. */
  log?: (line: string) => void;
}

export interface GcsEmulator {
  /** e.g. http://127.0.0.1:9023: the SDK's apiEndpoint; gcloud's override is `${url}/storage/v1/`. */
  url: string;
  port: number;
  /** Faults, deny list, request log, reset: the same controls as /emulator/v1/. */
  control: Control;
  close(): Promise<void>;
}

export const DEFAULT_GCS_PORT = 9023;

export async function startGcsEmulator(options: GcsEmulatorOptions = {}): Promise<GcsEmulator> {
  const host = options.host ?? "127.0.0.1";
  let server: GcsServer | undefined;
  // The store reports each write to the control's write-rate counter (created just below).
  const store = new GcsStore((bucket, name) => control.countWrite(bucket, name));
  const control = new Control(() => {
    store.reset();
    server?.resetUploads();
  });
  server = new GcsServer(store, control, options.log ?? (() => {}));
  const gcs = server;
  const http = createServer((req, res) => {
    gcs.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`GCS emulator failure: ${String(err)}`);
    });
  });
  http.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? DEFAULT_GCS_PORT, host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost === "0.0.0.0" ? "127.0.0.1" : urlHost}:${port}`,
    port,
    control,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
