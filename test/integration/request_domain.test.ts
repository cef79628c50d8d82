// preload.cjs replaces the Functions Framework's per-request `domain` with one on
// AsyncLocalStorage (scripts/request_domain.mjs), for a faster cold start. The framework must
// answer exactly as it does with Node's `domain`: an exception thrown later by one request's
// callbacks answers that request 500 and the instance goes on serving the others; one thrown
// outside every request is the framework's uncaught exception (the latest request answered,
// exit 16). Each case runs the real framework of a deployed dispatch package, with
// test/helpers/domain_probe.cjs as its function, without the preload (Node's domain, on Node
// 20) and with it (on Node 20 and on Node 22), and expects the same answers from each.
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import { PRELOAD_NODE_OPTION } from "../../scripts/framework_preload.mjs";
import {
  type DeployedFunction,
  deployLocally,
  ensureBuilt,
  NODE22_PACKAGE,
  ROOT,
  RUNTIMES,
  skipLoudly,
  startDeployed,
} from "../helpers/bundles.js";
import { eventually } from "../helpers/eventually.js";

const PROBE = join(ROOT, "test", "helpers", "domain_probe.cjs");
const WAIT_MS = 30_000;

const variants = [
  { label: "Node's domain (no preload)", nodeOptions: "", enter: "function" },
  { label: "preload.cjs's domain", nodeOptions: PRELOAD_NODE_OPTION, enter: "undefined" },
];

/** A deployed dispatch package whose main is the probe (the framework and preload unchanged). */
function probeApp(nodeBin: string): string {
  const app = deployLocally("dispatch", nodeBin);
  copyFileSync(PROBE, join(app, "probe.cjs"));
  const pkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ ...pkg, main: "probe.cjs" }));
  return app;
}

interface Answer {
  status: number;
  crash: string | null;
  body: string;
}

async function answer(
  fn: DeployedFunction,
  path: string,
  response: Promise<Response>,
): Promise<Answer> {
  try {
    const r = await response;
    return { status: r.status, crash: r.headers.get("x-google-status"), body: await r.text() };
  } catch (err) {
    const why = (err as { cause?: Error }).cause?.message ?? String(err);
    const code = fn.process.exitCode;
    throw new Error(
      `${path} got no answer (${why}); the instance ${code === null ? "still runs" : `exited ${code}`}`,
    );
  }
}

describe("the framework's per-request domain, with and without preload.cjs", () => {
  let buildSkip: string | null = null;
  before(async () => {
    try {
      await ensureBuilt();
    } catch (err) {
      if (!/is the npm registry reachable/.test(String(err))) throw err;
      buildSkip = `npm run build could not resolve the Functions Framework's lockfile: ${err}`;
    }
  });

  // One deployed copy per runtime, shared by its cases (each starts its own instances).
  const apps = new Map<string, string>();
  after(() => {
    for (const app of apps.values()) rmSync(app, { recursive: true, force: true });
  });

  // Node's domain once, on this machine's Node, as the reference the expectations below were
  // written from; the preload's on both runtimes (Node 22 is the one deployed).
  for (const runtime of RUNTIMES)
    for (const variant of runtime.label.includes("22") ? variants.slice(1) : variants)
      it(`answers as Node's domain does: ${variant.label}, ${runtime.label}`, async (t) => {
        if (buildSkip) return skipLoudly(t, buildSkip);
        const node = runtime.node();
        if ("missing" in node)
          return skipLoudly(t, `${NODE22_PACKAGE} cannot be installed: ${node.missing}`);
        const app = apps.get(node.bin) ?? probeApp(node.bin);
        apps.set(node.bin, app);
        const started: DeployedFunction[] = [];
        const lines: string[] = [];
        t.after(async () => {
          for (const fn of started) if (fn.process.exitCode === null) fn.process.kill("SIGKILL");
          await Promise.all(started.map((fn) => fn.exited));
        });
        const start = async (target: string) => {
          const fn = await startDeployed({
            name: target,
            app,
            nodeBin: node.bin,
            port: 0,
            env: { NODE_OPTIONS: variant.nodeOptions, VD_CODE_CACHE_DEBUG: "1" },
            onLine: (l) => lines.push(l),
          });
          started.push(fn);
          const get = (path: string) =>
            answer(fn, path, fetch(`${fn.url}${path}`, { signal: AbortSignal.timeout(WAIT_MS) }));
          return { fn, get };
        };
        // Three instances, each checked on its own, side by side.
        const [http, event, outside] = await Promise.all(["probe", "event", "probe"].map(start));
        await Promise.all([
          checkHttp(http as Probe, variant.enter),
          checkEvent(event as Probe),
          checkOutside(outside as Probe),
        ]);
        const preloads = lines.filter((l) => l.includes("framework preload"));
        if (variant.nodeOptions) assert.equal(preloads.length, 3, lines.join("\n"));
        else assert.deepEqual(preloads, []);
        for (const l of preloads) assert.match(l, /its request domain on AsyncLocalStorage$/);
        for (const message of THROWN)
          assert.equal(lines.filter((l) => l.includes(`Error: ${message}`)).length, 1, message);
      });
});

type Probe = { fn: DeployedFunction; get: (path: string) => Promise<Answer> };

/** The framework's 500 (NODE_ENV=production, as deployed: the error is logged, not sent). */
const crashed: Answer = { status: 500, crash: "crash", body: "Internal Server Error" };
/** What each case throws, each logged by the framework once it answered the 500. */
const THROWN = [
  "thrown later by request 2",
  "rejected by request 4",
  "the event function rejected",
  "thrown later by the event function",
  "thrown outside every request",
];

async function pending(get: Probe["get"], key: "held" | "waiting", n: string): Promise<void> {
  await eventually(
    async () => (JSON.parse((await get("/pending")).body) as Record<string, string[]>)[key],
    {
      timeout: WAIT_MS,
      what: `request ${n} ${key} by the probe`,
      until: (v) => v?.includes(n) === true,
    },
  );
}

/**
 * Request 2's own callback throws after request 3 (the latest) has arrived, while request 1 is
 * still open: request 2 alone gets the 500; 1 and 3 get their answers; the instance lives.
 */
async function checkHttp({ fn, get }: Probe, enter: string): Promise<void> {
  assert.deepEqual(JSON.parse((await get("/domain")).body), { enter });
  const first = get("/hold?n=1");
  await pending(get, "held", "1");
  const second = get("/throw-when-told?n=2");
  await pending(get, "waiting", "2");
  assert.deepEqual(await get("/tell?n=2"), { status: 200, crash: null, body: "told 2" });
  assert.deepEqual(await second, crashed);
  assert.deepEqual(await get("/release?n=1"), { status: 200, crash: null, body: "released 1" });
  assert.deepEqual(await first, { status: 200, crash: null, body: "hold 1 released" });
  assert.deepEqual(await get("/reject?n=4"), crashed);
  assert.equal((await get("/pending")).status, 200);
  assert.equal(fn.process.exitCode, null, "the instance still serves");
}

/** A CloudEvent function (answered through process.domain.bind): 204, 500 error, 500 crash. */
async function checkEvent({ fn }: Probe): Promise<void> {
  const post = (how: string) =>
    answer(
      fn,
      `the event ${how}`,
      fetch(fn.url, {
        method: "POST",
        signal: AbortSignal.timeout(WAIT_MS),
        headers: {
          "content-type": "application/json",
          "ce-id": `probe-${how}`,
          "ce-specversion": "1.0",
          "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
          "ce-source": "//pubsub.googleapis.com/projects/p/topics/t",
        },
        body: JSON.stringify({ how }),
      }),
    );
  assert.deepEqual(await post("ok"), { status: 204, crash: null, body: "" });
  assert.deepEqual(await post("reject"), { ...crashed, crash: "error" });
  assert.deepEqual(await post("throw-later"), crashed);
  assert.deepEqual(await post("ok"), { status: 204, crash: null, body: "" });
  assert.equal(fn.process.exitCode, null, "the instance still serves");
}

/** Thrown outside every request: the framework's uncaughtException handler, exit 16. */
async function checkOutside({ fn, get }: Probe): Promise<void> {
  assert.deepEqual(await get("/outside"), crashed);
  assert.equal(await fn.exited, 16);
}
