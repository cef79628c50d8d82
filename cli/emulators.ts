// `vertex-dispatch emulators`: runs the Pub/Sub, GCS and Vertex emulators standalone on
// the SPEC §9 endpoints (each overridable by its variable), prints what to export to use
// them, and keeps them running until SIGINT/SIGTERM, which stops everything it started
// (the Pub/Sub emulator's java included). Without gcloud/Java it runs the other two and
// says so loudly.
import { parseArgs } from "node:util";
import { startGcsEmulator } from "../local/gcs/index.js";
import { pubsubMissing, startPubsubEmulator } from "../local/pubsub/index.js";
import { ingestCommand, LOCAL_WEBHOOK_TOKEN } from "../local/stack/demo.js";
import { startVertexEmulator } from "../local/vertex/index.js";
import type { Env } from "./main.js";

const USAGE = `usage: vertex-dispatch emulators [--quiet]

Runs the Pub/Sub emulator (PUBSUB_EMULATOR_HOST, default 127.0.0.1:8085), the GCS emulator
(GCS_ENDPOINT, default http://127.0.0.1:9023) and the Vertex emulator (VERTEX_ENDPOINT,
default 127.0.0.1:9010; VERTEX_REST_ENDPOINT, default http://127.0.0.1:9011) until Ctrl-C.
--quiet: do not print a line per request.
`;

interface Endpoint {
  host: string;
  port: number;
}

interface Running {
  name: string;
  close(): Promise<void>;
}

export async function emulators(argv: string[], env: Env): Promise<number> {
  let quiet = false;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { quiet: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    quiet = values.quiet ?? false;
  } catch (err) {
    process.stderr.write(`vertex-dispatch emulators: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }

  const project = env.GOOGLE_CLOUD_PROJECT || "local-project";
  let pubsubAt: Endpoint;
  let gcsAt: Endpoint;
  let grpcAt: Endpoint;
  let restAt: Endpoint;
  try {
    pubsubAt = hostPort("PUBSUB_EMULATOR_HOST", env.PUBSUB_EMULATOR_HOST || "127.0.0.1:8085");
    gcsAt = httpUrl("GCS_ENDPOINT", env.GCS_ENDPOINT || "http://127.0.0.1:9023");
    grpcAt = hostPort("VERTEX_ENDPOINT", env.VERTEX_ENDPOINT || "127.0.0.1:9010");
    restAt = httpUrl("VERTEX_REST_ENDPOINT", env.VERTEX_REST_ENDPOINT || "http://127.0.0.1:9011");
  } catch (err) {
    process.stderr.write(`vertex-dispatch emulators: ${(err as Error).message}\n`);
    return 2;
  }

  const say = (line: string) => process.stdout.write(`${line}\n`);
  const requestLog = (prefix: string) =>
    quiet ? undefined : (line: string) => say(`${prefix}${line}`);
  const running: Running[] = [];
  const stopAll = async () => {
    for (const r of running.reverse()) {
      await r.close().catch((err: unknown) => say(`stopping ${r.name}: ${String(err)}`));
    }
  };

  let pubsubProblem: string | null = null;
  let pubsubHost: string | undefined;
  try {
    const gcs = await startGcsEmulator({
      host: gcsAt.host,
      port: gcsAt.port,
      log: requestLog("gcs: "),
    });
    running.push({ name: "the GCS emulator", close: gcs.close });
    const vertex = await startVertexEmulator({
      host: grpcAt.host,
      grpcPort: grpcAt.port,
      restPort: restAt.port,
      gcsEndpoint: gcs.url,
      log: requestLog(""),
    });
    running.push({ name: "the Vertex emulator", close: vertex.close });
    pubsubProblem = pubsubMissing(env);
    if (!pubsubProblem) {
      say(`starting the Pub/Sub emulator on ${pubsubAt.host}:${pubsubAt.port} (a few seconds)...`);
      const pubsub = await startPubsubEmulator({
        host: pubsubAt.host,
        port: pubsubAt.port,
        projectId: project,
      });
      running.push({ name: "the Pub/Sub emulator", close: pubsub.close });
      pubsubHost = pubsub.host;
    }
    say("");
    say(environment(project, pubsubHost, gcs.url, vertex.grpcAddress, vertex.restUrl));
  } catch (err) {
    process.stderr.write(`vertex-dispatch emulators: ${(err as Error).message}\n`);
    await stopAll();
    return 1;
  }
  if (pubsubProblem) {
    const bar = "!".repeat(78);
    process.stderr.write(
      `\n${bar}\n!!! The Pub/Sub emulator is NOT running: ${pubsubProblem}\n!!! GCS and Vertex are running.\n${bar}\n\n`,
    );
  }
  say("Running. Ctrl-C stops all emulators.");

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  say(`\n${signal}: stopping the emulators...`);
  await stopAll();
  say("stopped.");
  return 0;
}

/** The lines a user pastes into another shell. */
function environment(
  project: string,
  pubsubHost: string | undefined,
  gcsUrl: string,
  vertexGrpc: string,
  vertexRest: string,
): string {
  const lines = [
    "# Environment for the SDKs, the functions and the vertex-dispatch CLI:",
    `export GOOGLE_CLOUD_PROJECT=${project}`,
    pubsubHost
      ? `export PUBSUB_EMULATOR_HOST=${pubsubHost}`
      : "# (no Pub/Sub emulator: PUBSUB_EMULATOR_HOST not set)",
    `export GCS_ENDPOINT=${gcsUrl}`,
    `export VERTEX_ENDPOINT=${vertexGrpc}`,
    `export VERTEX_REST_ENDPOINT=${vertexRest}`,
    "export METADATA_SERVER_DETECTION=none",
    "",
    "# gcloud, for this shell only (your gcloud configuration is not touched):",
    "export CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true",
    `export CLOUDSDK_CORE_PROJECT=${project}`,
    `export CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=${gcsUrl}/storage/v1/`,
    `export CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM=${vertexRest}/`,
  ];
  if (pubsubHost) lines.push(`export CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://${pubsubHost}/`);
  if (pubsubHost) {
    lines.push(
      "",
      "# The ingest function (W&B webhooks) against these emulators, in this shell after the exports:",
      `export WEBHOOK_TOKEN=${LOCAL_WEBHOOK_TOKEN} INGEST_URL=http://127.0.0.1:8083`,
      `#   ${ingestCommand(8083)}`,
    );
  }
  lines.push(
    "",
    "# Control APIs (faults, request logs, reset):",
    `#   GCS    ${gcsUrl}/emulator/v1/`,
    `#   Vertex ${vertexRest}/emulator/v1/`,
  );
  return lines.join("\n");
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
