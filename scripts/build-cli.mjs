#!/usr/bin/env node
// Bundles the `vertex-dispatch` CLI (cli/main.ts and everything it imports from shared/
// and local/) into dist/cli/ with esbuild, so the bin runs plain JavaScript and never
// transpiles TypeScript per call. The Google SDKs stay external (resolved from
// node_modules at run time, as the sources do); commands are split into chunks loaded
// on use, so `--help` loads only the command table.
//
// Invariant: dist/cli/ sits two levels below the repo root, like cli/*.ts and local/*/*.ts,
// so paths the sources build from import.meta.url (../../shared/data, the repo root for
// the local functions) resolve to the same files from the bundle.
//
// Run by `npm ci` / `npm install` (the `prepare` script) and by `npm run build`
// (scripts/build.mjs imports buildCli). Writes atomically: outputs go to a temporary
// folder that replaces dist/cli/ in one rename, so a concurrent run never sees half a build.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PROTOS = "@google-cloud/aiplatform/build/protos/protos.json";
const REQUEST_TYPE = "google.cloud.aiplatform.v1.CreateCustomJobRequest";
const SUBSET = "create-custom-job-request.json";
const EXTERNAL = [
  "@google-cloud/*",
  "@grpc/*",
  "google-gax",
  "google-gax/*",
  "protobufjs",
  "protobufjs/*",
  "proto3-json-serializer",
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

/** esbuild: the bundled proto_json.ts reads the subset beside the bundle, not all of protos.json, with protobufjs/light. */
const protoSubsetPlugin = {
  name: "proto-subset",
  setup(build) {
    build.onLoad({ filter: /shared[\\/]resolve[\\/]proto_json\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      const from = `require("${PROTOS}")`;
      if (!source.includes(from)) {
        return {
          contents: source,
          loader: "ts",
          warnings: [{ text: `${from} not found: the CLI bundle loads the full protos.json` }],
        };
      }
      // The subset is JSON, so protobufjs's .proto parser is never needed: load the light build.
      const contents = source
        .replace(from, `require("./${SUBSET}")`)
        .replace('require("protobufjs")', 'require("protobufjs/light.js")');
      return { contents, loader: "ts" };
    });
  },
};

/** Builds dist/cli/ (main.js and its chunks); returns the output folder. */
export async function buildCli({ root = ROOT, quiet = false } = {}) {
  const { build } = await import("esbuild");
  const outDir = join(root, "dist", "cli");
  const tmpDir = join(root, "dist", `.cli-${process.pid}-${Date.now()}`);
  mkdirSync(tmpDir, { recursive: true });
  try {
    await build({
      entryPoints: { main: join(root, "cli", "main.ts") },
      outdir: tmpDir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node20",
      // The Google SDKs, gRPC and protobufjs read files beside themselves (package.json,
      // protos) and are loaded only by commands that call a service: they stay in
      // node_modules. Pure-JS libraries (zod, yaml) are bundled: loading their ~200 small
      // ES modules one by one was most of render's start-up.
      external: EXTERNAL,
      sourcemap: "linked",
      minify: true,
      keepNames: true,
      logLevel: quiet ? "silent" : "warning",
      outExtension: { ".js": ".js" },
      chunkNames: "[name]-[hash]",
      plugins: [protoSubsetPlugin],
      // Bundled CommonJS (yaml's node build) calls require(); give ES modules one.
      banner: {
        js: 'import { createRequire as __vdCreateRequire } from "node:module"; const require = __vdCreateRequire(import.meta.url);',
      },
    });
    writeFileSync(join(tmpDir, SUBSET), JSON.stringify(protoSubset(root)));
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const out = await buildCli();
  console.log(`vertex-dispatch CLI built into ${out} in ${Date.now() - started} ms`);
}
