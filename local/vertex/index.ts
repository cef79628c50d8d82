// The Vertex AI emulator: JobService CustomJobs over gRPC and REST, with a control API.
// See docs/vertex-emulator.md.
import type { EmulatorContext } from "./context.js";
import { createControl, type VertexControl } from "./control.js";
import { loadFacts } from "./facts.js";
import { Faults, seededRandom } from "./faults.js";
import { startGrpc } from "./grpc_server.js";
import { type ClockConfig, DEFAULT_CLOCK, Lifecycle } from "./lifecycle.js";
import { loadProtos } from "./protos.js";
import { RequestLog } from "./request_log.js";
import { ProjectNumbers } from "./resources.js";
import { startRest } from "./rest_server.js";
import { JobService } from "./service.js";
import { Store } from "./store.js";

export type { AdvanceInput, JobSummary, OutcomeInput, VertexControl } from "./control.js";
export type { FaultInput, FaultRule } from "./faults.js";
export type { ClockConfig } from "./lifecycle.js";
export type { LoggedRequest, MethodCounts } from "./request_log.js";

export const DEFAULT_GRPC_PORT = 9010;
export const DEFAULT_REST_PORT = 9011;

export interface VertexEmulatorOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** gRPC port (default 9010; 0 = any free port). */
  grpcPort?: number;
  /** REST + control port (default 9011; 0 = any free port). */
  restPort?: number;
  /** Job clock (default: timed, 1 s queued, 2 s pending, 5 s running, 1 s cancelling). */
  clock?: ClockConfig;
  /** GCS JSON API endpoint (e.g. http://127.0.0.1:9023); enables the bucket-location check. */
  gcsEndpoint?: string;
  /** Service accounts the caller may act as; null/absent = any well-formed account. */
  actAs?: string[] | null;
  /** Project ID -> number used in resource names; false keeps the IDs (default: made-up numbers). */
  projectNumbers?: Record<string, string> | false;
  /** Seed for `rate` faults (default: Math.random). */
  faultSeed?: number;
  /** Where the emulator writes its log lines (default: nowhere). */
  log?: (line: string) => void;
}

export interface VertexEmulator {
  /** "127.0.0.1:port", for VERTEX_ENDPOINT. */
  grpcAddress: string;
  grpcPort: number;
  /** "http://127.0.0.1:port", for VERTEX_REST_ENDPOINT. */
  restUrl: string;
  restPort: number;
  control: VertexControl;
  close(): Promise<void>;
}

export async function startVertexEmulator(
  options: VertexEmulatorOptions = {},
): Promise<VertexEmulator> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});
  const clock = options.clock ?? DEFAULT_CLOCK;
  const actAs = options.actAs ?? null;
  const ctx: EmulatorContext = {
    protos: loadProtos(),
    facts: loadFacts(),
    store: new Store(),
    lifecycle: new Lifecycle(clock, (job, from) =>
      log(`vertex emulator: ${job.name} ${from} -> ${String(job.json.state)}`),
    ),
    faults: new Faults(
      options.faultSeed === undefined ? Math.random : seededRandom(options.faultSeed),
    ),
    requests: new RequestLog(),
    projects: new ProjectNumbers(options.projectNumbers),
    actAs: actAs ? [...actAs] : null,
    defaultOutcome: { kind: "succeed" },
    gcsEndpoint: options.gcsEndpoint ?? null,
    initial: { actAs, clock },
    log,
  };
  const service = new JobService(ctx);
  const control = createControl(ctx);
  const grpc = await startGrpc(ctx.protos, service, host, options.grpcPort ?? DEFAULT_GRPC_PORT);
  let rest: Awaited<ReturnType<typeof startRest>>;
  try {
    rest = await startRest(
      ctx.protos,
      service,
      control,
      host,
      options.restPort ?? DEFAULT_REST_PORT,
    );
  } catch (err) {
    await grpc.close();
    throw err;
  }
  const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  log(
    `vertex emulator: gRPC on ${shownHost}:${grpc.port}, REST and control on http://${shownHost}:${rest.port}`,
  );
  return {
    grpcAddress: `${shownHost}:${grpc.port}`,
    grpcPort: grpc.port,
    restUrl: `http://${shownHost}:${rest.port}`,
    restPort: rest.port,
    control,
    async close() {
      ctx.store.clear();
      await Promise.all([grpc.close(), rest.close()]);
    },
  };
}
