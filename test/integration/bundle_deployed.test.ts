// The artifact that is deployed is the artifact that is tested (issue 10): `npm run build`'s
// packages, copied out of the repo, installed with `npm ci` and started by the Functions
// Framework exactly as Cloud Run functions starts them, under Node 20 (this machine) and
// Node 22 (the `nodejs22` runtime Terraform deploys), against the emulators. One launch goes
// through ingest (a webhook with its bearer token), dispatch (the push subscription with
// retry and dead-letter policy) and poll (ticks on launch-poll, as Cloud Scheduler
// publishes them) to `finished`.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { DISPATCH_NODE_OPTIONS, runtimeNodeOptions } from "../../bench/functions.js";
import { pushEndpoint, SUBSCRIPTIONS, TOPICS } from "../../local/pubsub/index.js";
import { createTopology } from "../../local/pubsub/topology.js";
import { DEMO_JOB_SERVICE_ACCOUNT, DEMO_QUEUE, demoMessage } from "../../local/stack/demo.js";
import { type Stack, startStack } from "../../local/stack/stack.js";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import { COMPILE_CACHE_DIR } from "../../scripts/code_cache.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import { FRAMEWORK_SRC, frameworkRequires } from "../../scripts/framework_preload.mjs";
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
import { waitFor } from "../helpers/cli.js";
import { pubsubSkipReason } from "../helpers/pubsub.js";
import { TEST_SECRET } from "../helpers/stack.js";

const ESM_PROBE = join(ROOT, "test", "helpers", "esm_probe.cjs");

/** The variables Terraform gives dispatch and poll, pointed at the emulators. */
function productionEnv(stack: Stack): Record<string, string> {
  const e = stack.env;
  return {
    GOOGLE_CLOUD_PROJECT: stack.project,
    VERTEX_REGION: stack.region,
    STATE_BUCKET: e.STATE_BUCKET ?? "",
    CONFIG_BUCKET: e.CONFIG_BUCKET ?? "",
    DEFAULT_JOB_SERVICE_ACCOUNT: DEMO_JOB_SERVICE_ACCOUNT,
    STATUS_TOPIC: TOPICS.status,
    LAUNCH_TOPIC: TOPICS.jobs,
    WANDB_API_KEY: TEST_SECRET,
    PUBSUB_EMULATOR_HOST: e.PUBSUB_EMULATOR_HOST ?? "",
    GCS_ENDPOINT: e.GCS_ENDPOINT ?? "",
    VERTEX_ENDPOINT: e.VERTEX_ENDPOINT ?? "",
    METADATA_SERVER_DETECTION: "none",
  };
}

const WEBHOOK_TOKEN = "webhook-token-0a1b2c3d4e5f";

/** The variables Terraform gives ingest. */
function ingestEnv(stack: Stack): Record<string, string> {
  return {
    GOOGLE_CLOUD_PROJECT: stack.project,
    LAUNCH_TOPIC: TOPICS.jobs,
    WEBHOOK_TOKEN,
    PUBSUB_EMULATOR_HOST: stack.env.PUBSUB_EMULATOR_HOST ?? "",
    METADATA_SERVER_DETECTION: "none",
  };
}

describe("the built bundles, deployed as Cloud Run functions deploys them", () => {
  let built: string[] = [];
  let buildSkip: string | null = null;
  // One set of emulators for both runtimes (the Pub/Sub emulator is slow to start); each
  // test deploys its own functions and points the push subscriptions at them.
  let stack: Promise<Stack> | undefined;
  const sharedStack = () => {
    stack ??= startStack({
      env: {},
      ports: "free",
      functions: [],
      pollIntervalMs: 0,
      vertexClock: { mode: "manual" },
    });
    return stack;
  };
  after(async () => {
    if (stack) await (await stack).close();
  });
  before(async () => {
    try {
      built = await ensureBuilt();
    } catch (err) {
      // Only an unreachable registry is a reason to skip; any other build failure fails.
      if (!/is the npm registry reachable/.test(String(err))) throw err;
      buildSkip = `npm run build could not resolve the Functions Framework's lockfile: ${err}`;
    }
  });

  it("each package: one bundle, the framework its only dependency and its dependencies' preload, gcp-build makes the code cache, under 10 MB", (t) => {
    if (buildSkip) return skipLoudly(t, buildSkip);
    const sizes = JSON.parse(readFileSync(join(ROOT, "dist", "functions", "sizes.json"), "utf8"));
    for (const name of built) {
      const dir = join(ROOT, "dist", "functions", name);
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      assert.deepEqual(Object.keys(pkg.dependencies), ["@google-cloud/functions-framework"]);
      // start.cjs loads index.js with the V8 code cache gcp-build makes (scripts/code_cache.mjs).
      assert.equal(pkg.scripts["gcp-build"], "node code_cache.cjs");
      // .cjs: the framework then loads it without importing read-package-up to read "type".
      assert.equal(pkg.main, "start.cjs");
      // preload.cjs gives the framework its dependencies from framework_deps.cjs
      // (scripts/framework_preload.mjs).
      assert.deepEqual(readdirSync(dir).sort(), [
        "code_cache.cjs",
        "framework_deps.cjs",
        "framework_deps.cjs.LEGAL.txt",
        "index.js",
        "index.js.LEGAL.txt",
        "package-lock.json",
        "package.json",
        "preload.cjs",
        "start.cjs",
      ]);
      // The framework is required, never bundled (a bundled copy would not register the target).
      assert.match(
        readFileSync(join(dir, "index.js"), "utf8"),
        /require\("@google-cloud\/functions-framework"\)/,
      );
      const size = sizes.functions[name];
      assert.ok(size.package_bytes < sizes.limit_bytes && size.zip_bytes < sizes.limit_bytes, name);
    }
  });

  for (const runtime of RUNTIMES) {
    it(`one launch through ingest, dispatch and poll on ${runtime.label}`, async (t) => {
      const skip = pubsubSkipReason() ?? buildSkip;
      if (skip) return skipLoudly(t, skip);
      const node = runtime.node();
      if ("missing" in node)
        return skipLoudly(t, `${NODE22_PACKAGE} cannot be installed: ${node.missing}`);
      assert.deepEqual(built, ["dispatch", "ingest", "poll"]);

      const lines: string[] = [];
      const stack = await sharedStack();
      const deployed: DeployedFunction[] = [];
      t.after(async () => {
        for (const fn of deployed) await fn.stop();
      });
      // Deployed one by one (npm ci, node --check), started together (cold starts overlap).
      // Terraform's NODE_OPTIONS per function; gcp-build makes the code cache under the same
      // flags (Terraform's build_config passes them as CODE_CACHE_NODE_OPTIONS).
      // Terraform's NODE_OPTIONS also require the framework preload first (runtimeNodeOptions).
      const nodeOptions = (name: string) => (name === "dispatch" ? DISPATCH_NODE_OPTIONS : "");
      const apps = ["dispatch", "poll", "ingest"].map((name) => ({
        name,
        app: deployLocally(name, node.bin, nodeOptions(name)),
      }));
      // The files the framework's `require`s resolve to, in a deployed copy.
      const src = join(apps[0]?.app ?? "", FRAMEWORK_SRC);
      const preloaded = frameworkRequires(src)
        .map((n: string) =>
          relative(apps[0]?.app ?? "", createRequire(join(src, "main.js")).resolve(n)),
        )
        .sort();
      const starts = apps.map(async ({ name, app }) => {
        const fn = await startDeployed({
          name,
          app,
          nodeBin: node.bin,
          port: 0, // the function binds one; startDeployed reads it back
          env: {
            ...(name === "ingest" ? ingestEnv(stack) : productionEnv(stack)),
            // The probe reports at exit whether Node's ES module loader ran (below).
            NODE_OPTIONS: `${runtimeNodeOptions(name)} --require ${ESM_PROBE}`,
            NODE_COMPILE_CACHE: COMPILE_CACHE_DIR, // as Terraform sets it
            VD_CODE_CACHE_DEBUG: "1", // start.cjs says what became of the cache
            NODE_DEBUG_NATIVE: "COMPILE_CACHE", // Node 22 says what it read from its own
          },
          onLine: (l) => lines.push(l),
        });
        deployed.push(fn);
        return fn;
      });
      const started = await Promise.allSettled(starts);
      for (const r of started) if (r.status === "rejected") throw r.reason;
      for (const fn of deployed)
        assert.equal(fn.executable() ?? node.bin, node.bin, `${fn.name} runs under ${node.bin}`);
      // Each function started with the cache its gcp-build made (V8 accepted it: same Node,
      // same V8 flags), so none logged the rejected-cache warning. start.cjs writes its line in
      // one write, but Node 22's NODE_DEBUG_NATIVE writes a compile-cache line in pieces, so
      // the two can share a line ("...for CommonJS x.js...code cache used"): the words are
      // found wherever they are. A function listens before its stderr is necessarily read
      // here, so this waits for the three.
      const cacheWords = () =>
        lines.flatMap((l) => l.match(/code cache (used|rejected|missing)\b/g) ?? []);
      const cacheLines = await waitFor("each function's `code cache` line on stderr", () => {
        const seen = cacheWords();
        return seen.length >= 3 && seen;
      }).catch((err) => {
        const near = lines.filter((l) => l.includes("code cache")).join("\n  ");
        throw new Error(`${err.message}; the lines naming it:\n  ${near}`);
      });
      assert.deepEqual(cacheLines, ["code cache used", "code cache used", "code cache used"]);
      assert.equal(
        lines.filter((l) => l.includes("code cache index.js.cache was rejected")).length,
        0,
      );
      // Each function's framework took express, body-parser, on-finished and minimist from
      // the preload's bundle, compiled with the V8 cache its gcp-build made.
      const preloads = await waitFor("each function's `framework preload` line on stderr", () => {
        const seen = lines.filter((l) => l.includes("framework preload"));
        return seen.length >= 3 && seen;
      });
      assert.deepEqual(
        preloads,
        Array(3).fill(
          "framework preload used, its V8 cache used, its request domain on AsyncLocalStorage",
        ),
      );
      // On Node 22, gcp-build also filled Node's compile cache with the framework's modules,
      // and each function read them from it (Node 20 has no compile cache: none is made).
      for (const { name, app } of apps) {
        const server = `${app}/node_modules/@google-cloud/functions-framework/build/src/server.js`;
        const accepted = lines.some((l) => l.includes(`cache for ${server} was accepted`));
        const made = existsSync(join(app, COMPILE_CACHE_DIR));
        if (runtime.label.includes("22")) {
          assert.ok(made && accepted, `${name}: the framework's server.js from the compile cache`);
        } else assert.ok(!made && !accepted, `${name}: no compile cache on Node 20`);
      }
      const byName = (name: string) => deployed.find((fn) => fn.name === name) as DeployedFunction;
      const [dispatch, poll, ingest] = [byName("dispatch"), byName("poll"), byName("ingest")];

      // The stack made dispatch and poll pull subscriptions (no functions of its own): make
      // them the production push subscriptions, pointed at the deployed bundles.
      await stack.pubsub.subscription(SUBSCRIPTIONS.dispatch).delete();
      await stack.pubsub.subscription(SUBSCRIPTIONS.poll).delete();
      await createTopology(stack.pubsub, {
        pushEndpoints: {
          dispatch: pushEndpoint(dispatch.url, stack.project, TOPICS.jobs),
          poll: pushEndpoint(poll.url, stack.project, TOPICS.poll),
        },
        retry: { minimumBackoffSeconds: 1, maximumBackoffSeconds: 2 },
      });

      const runId = `bundle${runtime.label.includes("22") ? "22" : "20"}`;
      // The launch arrives as a W&B webhook would send it, through the deployed ingest.
      const webhook = (token: string) =>
        fetch(ingest.url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify(demoMessage(runId)),
        });
      assert.equal((await webhook("wrong-token")).status, 401);
      const accepted = await webhook(WEBHOOK_TOKEN);
      assert.equal(accepted.status, 202);
      assert.match(String(((await accepted.json()) as { message_id?: unknown }).message_id), /\S/);
      const submitted = await stack.waitForEvent(
        (e) => e.run_id === runId && e.state === "submitted",
        120_000,
      );
      // Cloud Scheduler's part: ticks on launch-poll; the job moves one step between changes
      // (QUEUED, then PENDING and RUNNING, then SUCCEEDED) so each state is seen.
      const ticker = setInterval(() => {
        void stack.pubsub
          .topic(TOPICS.poll)
          .publishMessage({ json: { tick: "test" } })
          .catch(() => {});
      }, 500);
      const job = submitted.job_name as string;
      try {
        for (const [state, steps] of [
          ["starting", 0],
          ["running", 2],
          ["finished", 1],
        ] as const) {
          if (steps > 0) stack.vertex.control.advance({ job, steps });
          await stack.waitForEvent((e) => e.run_id === runId && e.state === state, 120_000);
        }
      } finally {
        clearInterval(ticker);
      }
      const states = stack.events.filter((e) => e.run_id === runId).map((e) => e.state);
      assert.deepEqual(
        states.filter((s, i) => states.indexOf(s) === i),
        ["submitted", "starting", "running", "finished"],
      );
      const ours = stack.vertex.control.jobs().filter((j) => j.labels["wandb-run-id"] === runId);
      assert.equal(ours.length, 1, "exactly one CustomJob");
      assert.equal(ours[0]?.name, submitted.job_name);
      assert.equal(ours[0]?.labels["launch-queue"], DEMO_QUEUE);
      // The secret reached the job (the dispatcher injects it), and no log line.
      assert.match(JSON.stringify(stack.vertex.control.job(job)), new RegExp(TEST_SECRET));
      const output = lines.join("\n");
      assert.doesNotMatch(output, new RegExp(TEST_SECRET), "the W&B key never reaches a log line");
      assert.doesNotMatch(output, new RegExp(WEBHOOK_TOKEN), "nor does the webhook token");

      // SIGTERM runs the drain (shared/shutdown.ts) in the bundle, not the framework's
      // exit-at-once handler: each function logs its drain and exits 0.
      for (const fn of deployed) {
        fn.process.kill("SIGTERM");
        assert.equal(await fn.exited, 0, `${fn.name} exits 0 after SIGTERM`);
      }
      const drained = lines.filter((l) => l.includes("shutdown: drained; exiting"));
      assert.equal(drained.length, 3, `each function drained:\n${lines.slice(-20).join("\n")}`);
      // No function loaded an ES module through require (the framework's get-intrinsic is
      // pinned for that: scripts/framework_overrides.mjs), so none ran Node's ES module loader.
      const esm = lines.filter((l) => l.startsWith("esm loader modules: "));
      assert.deepEqual(esm, Array(3).fill("esm loader modules: []"));
      // Nor did a framework read its dependencies' files: express, body-parser, on-finished
      // and minimist are only the require.cache entries the preload made from its bundle, the
      // packages frameworkRequires reads off the framework's own files.
      assert.equal(preloaded.length, 4, JSON.stringify(preloaded));
      const files = lines.filter((l) => l.startsWith("node_modules files: "));
      assert.deepEqual(files, Array(3).fill(`node_modules files: ${JSON.stringify(preloaded)}`));
    });
  }
});
