// `vertex-dispatch emulators`: runs the Pub/Sub, GCS and Vertex emulators standalone on
// the SPEC §9 endpoints (each overridable by its variable), prints what to export to use
// them, and keeps them running until SIGINT/SIGTERM, which stops everything it started
// (the Pub/Sub emulator's java included). Without gcloud/Java it runs the other two and
// says so loudly.
import { startGcsEmulator } from "../local/gcs/index.js";
import { pubsubMissing, startPubsubEmulator } from "../local/pubsub/index.js";
import { ingestCommand, LOCAL_WEBHOOK_TOKEN } from "../local/stack/demo.js";
import { startVertexEmulator } from "../local/vertex/index.js";
import { LOCAL_WANDB_API_KEY, startWandbEmulator } from "../local/wandb/index.js";
import { bool, type FlagValues } from "./args.js";
import type { Ctx } from "./io.js";
import { environmentLines } from "./local_env.js";

interface Endpoint {
  host: string;
  port: number;
}

interface Running {
  name: string;
  close(): Promise<void>;
}

interface Endpoints {
  pubsub: Endpoint;
  gcs: Endpoint;
  grpc: Endpoint;
  rest: Endpoint;
  wandb: Endpoint;
}

type Say = (line: string) => void;

export async function emulators(values: FlagValues, _p: string[], ctx: Ctx): Promise<number> {
  const env = ctx.env;
  const quiet = bool(values, "quiet");
  const project = env.GOOGLE_CLOUD_PROJECT || "local-project";
  let at: Endpoints;
  try {
    at = endpoints(env);
  } catch (err) {
    ctx.err.write(`vertex-dispatch emulators: ${(err as Error).message}\n`);
    return 2;
  }
  const say: Say = (line) => ctx.out.line(line);
  const running: Running[] = [];
  const stopAll = async () => {
    for (const r of running.reverse()) {
      await r.close().catch((err: unknown) => say(`stopping ${r.name}: ${String(err)}`));
    }
  };
  const pubsubProblem = pubsubMissing(env);
  try {
    await startAll(at, { project, quiet, pubsubProblem, env }, running, say);
  } catch (err) {
    ctx.err.write(`vertex-dispatch emulators: ${(err as Error).message}\n`);
    await stopAll();
    return 1;
  }
  if (pubsubProblem) {
    const bar = "!".repeat(78);
    ctx.err.write(
      `\n${bar}\n!!! The Pub/Sub emulator is NOT running: ${pubsubProblem}\n!!! GCS and Vertex are running.\n${bar}\n\n`,
    );
  }
  say("Running. Ctrl-C stops all emulators.");
  await new Promise<void>((resolve) => {
    const off = ctx.io.onInterrupt(() => {
      off();
      resolve();
    });
  });
  say("\nstopping the emulators...");
  await stopAll();
  say("stopped.");
  return 0;
}

/** Where each emulator listens: the variables the SDKs read, else the stack's fixed ports. */
function endpoints(env: Ctx["env"]): Endpoints {
  return {
    wandb: hostPort("WANDB_EMULATOR_HOST", env.WANDB_EMULATOR_HOST || "127.0.0.1:9030"),
    pubsub: hostPort("PUBSUB_EMULATOR_HOST", env.PUBSUB_EMULATOR_HOST || "127.0.0.1:8085"),
    gcs: httpUrl("GCS_ENDPOINT", env.GCS_ENDPOINT || "http://127.0.0.1:9023"),
    grpc: hostPort("VERTEX_ENDPOINT", env.VERTEX_ENDPOINT || "127.0.0.1:9010"),
    rest: httpUrl("VERTEX_REST_ENDPOINT", env.VERTEX_REST_ENDPOINT || "http://127.0.0.1:9011"),
  };
}

interface StartOptions {
  project: string;
  quiet: boolean;
  /** Why the Pub/Sub emulator cannot run here, or null. */
  pubsubProblem: string | null;
  env: Ctx["env"];
}

/** Starts every emulator (each added to `running` as it comes up), then prints how to use them. */
async function startAll(at: Endpoints, o: StartOptions, running: Running[], say: Say) {
  const requestLog = (prefix: string) =>
    o.quiet ? undefined : (line: string) => say(`${prefix}${line}`);
  const gcs = await startGcsEmulator({
    host: at.gcs.host,
    port: at.gcs.port,
    log: requestLog("gcs: "),
  });
  running.push({ name: "the GCS emulator", close: gcs.close });
  const vertex = await startVertexEmulator({
    host: at.grpc.host,
    grpcPort: at.grpc.port,
    restPort: at.rest.port,
    gcsEndpoint: gcs.url,
    log: requestLog(""),
  });
  running.push({ name: "the Vertex emulator", close: vertex.close });
  const wandb = await startWandbEmulator({ host: at.wandb.host, port: at.wandb.port });
  running.push({ name: "the W&B emulator", close: wandb.close });
  let pubsubHost: string | undefined;
  if (!o.pubsubProblem) {
    say(`starting the Pub/Sub emulator on ${at.pubsub.host}:${at.pubsub.port} (a few seconds)...`);
    const pubsub = await startPubsubEmulator({
      host: at.pubsub.host,
      port: at.pubsub.port,
      projectId: o.project,
    });
    running.push({ name: "the Pub/Sub emulator", close: pubsub.close });
    pubsubHost = pubsub.host;
  }
  say("");
  for (const line of environmentLines({
    project: o.project,
    pubsubHost,
    gcsUrl: gcs.url,
    vertexGrpc: vertex.grpcAddress,
    vertexRest: vertex.restUrl,
  }))
    say(line);
  if (pubsubHost) printIngest(Number(o.env.INGEST_PORT) || 8083, say);
  say("");
  say("# Control APIs (faults, request logs, reset):");
  say(`#   GCS    ${gcs.url}/emulator/v1/`);
  say(`#   Vertex ${vertex.restUrl}/emulator/v1/`);
  say(wandbEnvironment(wandb.url));
}

function printIngest(ingestPort: number, say: Say): void {
  say("");
  say(
    "# The ingest function (W&B webhooks) against these emulators, in this shell after the exports:",
  );
  say(`export WEBHOOK_TOKEN=${LOCAL_WEBHOOK_TOKEN} INGEST_URL=http://127.0.0.1:${ingestPort}`);
  say("#   gcloud pubsub topics create launch-jobs   # the emulator starts empty");
  say(`#   ${ingestCommand(ingestPort)}`);
}

/** The W&B emulator's lines: the wandb SDK and the bridge read these variables. */
function wandbEnvironment(url: string): string {
  return [
    "",
    "# W&B API emulator (wandb SDK, `wandb launch`, the bridge); the key is a local stand-in:",
    `export WANDB_BASE_URL=${url}`,
    `export WANDB_API_KEY=${LOCAL_WANDB_API_KEY}`,
    `#   W&B    ${url}/emulator/v1/ (queues, items, faults, requests)`,
  ].join("\n");
}

function hostPort(name: string, value: string): Endpoint {
  const match = /^([^:/\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value);
  if (!match) throw new Error(`${name} must be HOST:PORT, not "${value}"`);
  return { host: (match[1] ?? "").replace(/^\[|\]$/g, ""), port: port(name, match[2]) };
}

function httpUrl(name: string, value: string): Endpoint {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} must be a URL like http://127.0.0.1:9023, not "${value}"`);
  }
  if (url.protocol !== "http:" || !url.port || (url.pathname !== "/" && url.pathname !== "")) {
    throw new Error(`${name} must be http://HOST:PORT with no path, not "${value}"`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: port(name, url.port) };
}

function port(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}: bad port "${raw}"`);
  return n;
}
