#!/usr/bin/env node
// Bundles the `vertex-dispatch` CLI (cli/main.ts and everything it imports from shared/
// and local/) into one CommonJS file, dist/cli/main.cjs, with esbuild, and makes its V8
// code cache (main.cjs.cache), so a call neither transpiles TypeScript nor compiles what
// the cache holds. The bin loads it through scripts/code_cache_load.mjs, as the function
// packages' start.js does. The Google SDKs stay external (resolved from node_modules at run
// time, as the sources do, and only required by the commands that call a service: esbuild
// wraps each command in a function run on first use); zod, yaml and protobufjs/light are
// bundled.
//
// Why one CommonJS file: ES module chunks cost a module-loader round per chunk and cannot
// carry a code cache; a CommonJS bundle compiled by vm.Script can (start-up figures in the
// README's CLI section).
//
// Invariants: dist/cli/ sits two levels below the repo root, like cli/*.ts and local/*/*.ts,
// so paths the sources build from import.meta.url (../../shared/data, the repo root for
// the local functions) resolve to the same files from the bundle. The code cache is only
// ever a saving: when it cannot be made the build warns and the CLI runs without it, and V8
// rejects a cache from another Node (the bin then compiles from source).
//
// Run by `npm ci` / `npm install` (the `prepare` script) and by `npm run build`
// (scripts/build.mjs imports buildCli). Writes atomically: outputs go to a temporary
// folder that replaces dist/cli/ in one rename, so a concurrent run never sees half a build.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import Module, { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { assertAscii, loadCommonJs } from "./code_cache_load.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PROTOS = "@google-cloud/aiplatform/build/protos/protos.json";
const REQUEST_TYPE = "google.cloud.aiplatform.v1.CreateCustomJobRequest";
const SUBSET = "create-custom-job-request.json";
export const CLI_BUNDLE = "main.cjs";
const EXTERNAL = [
  "@google-cloud/*",
  "@grpc/*",
  "google-gax",
  "google-gax/*",
  "tsx",
  "tsx/*",
  "esbuild",
];

/**
 * The part of aiplatform's protos.json that CreateCustomJobRequest needs: the outermost
 * message or enum around every type it reaches, each with everything nested in it, closed
 * over every field those reach in turn. Parsing all 4 MB (Root.fromJSON) takes seconds on
 * a loaded machine; this subset describes the same request type, field for field, so
 * `render` prints the same JSON from it.
 */
export function protoSubset(root = ROOT) {
  const require = createRequire(join(root, "package.json"));
  const pb = require("protobufjs");
  const full = pb.Root.fromJSON(require(PROTOS));
  full.resolveAll();
  const outermost = (t) => {
    let top = t;
    while (top.parent && (top.parent instanceof pb.Type || top.parent instanceof pb.Enum)) {
      top = top.parent;
    }
    return top;
  };
  const tops = new Map();
  const visit = (t) => {
    const top = outermost(t);
    if (tops.has(top.fullName)) return;
    tops.set(top.fullName, top);
    const walk = (node) => {
      if (node instanceof pb.Type) {
        for (const f of node.fieldsArray) if (f.resolvedType) visit(f.resolvedType);
      }
      for (const nested of node.nestedArray ?? []) walk(nested);
    };
    walk(top);
  };
  visit(full.lookupType(REQUEST_TYPE));
  const out = { nested: {} };
  for (const [fullName, top] of tops) {
    const parts = fullName.replace(/^\./, "").split(".");
    let ns = out;
    for (const part of parts.slice(0, -1)) {
      ns.nested[part] ??= { nested: {} };
      ns = ns.nested[part];
    }
    ns.nested[parts.at(-1)] = top.toJSON();
  }
  return out;
}

/**
 * esbuild: the bundled proto_json.ts reads the subset beside the bundle, not all of
 * protos.json, and protobufjs/light (the subset is JSON: no .proto parser) is bundled:
 * its own `require` (createRequire) becomes a free require, which esbuild bundles and
 * runs on first call, so the code cache holds it too.
 */
const protoSubsetPlugin = {
  name: "proto-subset",
  setup(build) {
    build.onLoad({ filter: /shared[\\/]resolve[\\/]proto_json\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      const edits = [
        [
          "const require = createRequire(import.meta.url);",
          "const requireBeside = createRequire(import.meta.url);",
        ],
        [`require("${PROTOS}")`, `requireBeside("./${SUBSET}")`],
        ['require("protobufjs")', 'require("protobufjs/light.js")'],
      ];
      const missing = edits.filter(([from]) => !source.includes(from));
      if (missing.length > 0) {
        const text = `proto_json.ts changed (${missing.map(([from]) => from).join("; ")} not found): the CLI bundle loads the full protos.json`;
        return { contents: source, loader: "ts", warnings: [{ text }] };
      }
      let contents = source;
      for (const [from, to] of edits) contents = contents.replace(from, to);
      return { contents, loader: "ts" };
    });
  },
};

/**
 * esbuild: the full protobufjs (`import "protobufjs"`, the local Vertex emulator's, beside
 * @grpc/grpc-js) stays in node_modules; protobufjs/light.js, which render needs, is bundled.
 * (A bare external would also make every subpath external.)
 */
const protobufFullExternal = {
  name: "protobufjs-full-external",
  setup(build) {
    build.onResolve({ filter: /^protobufjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

const IMPORT_META_URL = "vd:import-meta-url";
/** esbuild: the module `inject` adds to the bundle for import.meta.url. */
const importMetaUrlShim = {
  name: "import-meta-url",
  setup(build) {
    build.onResolve({ filter: /^vd:import-meta-url$/ }, (args) => ({
      path: args.path,
      namespace: "vd",
    }));
    build.onLoad({ filter: /.*/, namespace: "vd" }, () => ({
      contents:
        'export const __vdImportMetaUrl = require("node:url").pathToFileURL(__filename).href;',
      loader: "js",
    }));
  },
};

async function bundleCli(root, outDir, quiet) {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [join(root, "cli", "main.ts")],
    outfile: join(outDir, CLI_BUNDLE),
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    external: EXTERNAL,
    // import() of an external (the narrow JobServiceClient import) becomes require(): a
    // function V8 restores from a code cache has no dynamic-import callback on Node 20
    // ("A dynamic import callback was not specified"), and the packages are CommonJS.
    supported: { "dynamic-import": false },
    // A CommonJS bundle has no import.meta: the sources' import.meta.url is the bundle's URL
    // (injected as a module, so the bundle still starts with "use strict").
    define: { "import.meta.url": "__vdImportMetaUrl" },
    inject: [IMPORT_META_URL],
    sourcemap: "linked",
    minify: true,
    keepNames: true,
    logLevel: quiet ? "silent" : "warning",
    plugins: [protoSubsetPlugin, protobufFullExternal, importMetaUrlShim],
  });
}

/** Builds dist/cli/ (main.cjs, its code cache, the protos subset); returns the output folder. */
export async function buildCli({ root = ROOT, quiet = false } = {}) {
  const outDir = join(root, "dist", "cli");
  const tmpDir = join(root, "dist", `.cli-${process.pid}-${Date.now()}`);
  mkdirSync(tmpDir, { recursive: true });
  try {
    await bundleCli(root, tmpDir, quiet);
    assertAscii(join(tmpDir, CLI_BUNDLE), { readFileSync });
    writeFileSync(join(tmpDir, SUBSET), JSON.stringify(protoSubset(root)));
    const cacheError = makeCliCodeCache(tmpDir);
    if (cacheError) {
      process.stderr.write(
        `vertex-dispatch: no V8 code cache for the CLI (it runs without one, slower to start): ${cacheError}\n`,
      );
    }
    const old = `${outDir}.old-${process.pid}-${Date.now()}`;
    try {
      renameSync(outDir, old);
    } catch {
      // no previous build
    }
    renameSync(tmpDir, outDir);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }
  return outDir;
}

/**
 * Makes dir/main.cjs.cache in a fresh Node (the one running this build, with no flags, as
 * the bin runs): it loads the bundle, runs `--help` and a `render` of a small template
 * queue (output discarded, no network), then saves what V8 compiled, so the cache holds
 * the functions a call runs and not only the top level. Returns why not, or undefined.
 */
export function makeCliCodeCache(dir) {
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), WARM, dir], {
    env: { PATH: process.env.PATH ?? "" },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (run.status === 0 && existsSync(join(dir, `${CLI_BUNDLE}.cache`))) return undefined;
  const why = run.error?.message ?? /^\w*Error: (.*)$/m.exec(run.stderr)?.[1] ?? run.stderr.trim();
  return why || `exit ${run.status}`;
}

const WARM = "--make-code-cache";
const WARM_QUEUE = `region: us-central1
template_variables:
  gpus:
    schema: {type: integer, minimum: 1, maximum: 4}
    default: 1
spec:
  worker_pool_specs:
    - machine_spec: {machine_type: n1-standard-8, accelerator_type: NVIDIA_TESLA_T4, accelerator_count: "{{gpus}}"}
      replica_count: 1
      container_spec: {image_uri: "\${image_uri}", args: ["--gpus", "{{gpus}}"]}
  staging_bucket: gs://build-code-cache-staging
run: {timeout: 3600}
`;
const WARM_MESSAGE = {
  queue: "warm",
  entity: "build",
  project: "code-cache",
  run_id: "warm1",
  image_uri: "us-docker.pkg.dev/build/code-cache/image:1",
  entry_point: ["python", "train.py"],
  template_variables: { gpus: 2 },
};

/** The child of makeCliCodeCache. */
async function warmAndSaveCodeCache(dir) {
  const deps = { fs: await import("node:fs"), vm, Module, path: await import("node:path") };
  const file = join(dir, CLI_BUNDLE);
  const { exports, script } = loadCommonJs(file, deps);
  const tmp = mkdtempSync(join(tmpdir(), "vd-cli-cache-"));
  try {
    const queue = join(tmp, "warm.yaml");
    const message = join(tmp, "warm.json");
    writeFileSync(queue, WARM_QUEUE);
    writeFileSync(message, JSON.stringify(WARM_MESSAGE));
    let said = "";
    const sink = { write: () => true, isTTY: false };
    const stderr = { write: (text) => (said += text), isTTY: false };
    const io = { stdout: sink, stderr, onInterrupt: () => () => {}, now: () => 0 };
    const env = { GOOGLE_CLOUD_PROJECT: "build-code-cache" };
    await exports.main(["--help"], env, io);
    const sa = "trainer@build-code-cache.iam.gserviceaccount.com";
    const args = ["render", "--file", queue, "--message", message, "--service-account", sa];
    const code = await exports.main(args, env, io);
    if (code !== 0)
      throw new Error(`the warm-up render exited ${code}: ${said.replace(/\s+/g, " ")}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  writeFileSync(`${file}.cache`, script.createCachedData());
}

if (
  process.argv[1] &&
  fileURLToPath(import.meta.url) === process.argv[1] &&
  process.argv[2] === WARM
) {
  await warmAndSaveCodeCache(process.argv[3]);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const out = await buildCli();
  console.log(`vertex-dispatch CLI built into ${out} in ${Date.now() - started} ms`);
}
