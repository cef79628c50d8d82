#!/usr/bin/env node
// `npm run build`: one deployable package per Cloud Function, in dist/functions/<name>/.
//
// Each package is what Cloud Build receives (SPEC §11, §12):
//   index.js           the function and everything it imports, bundled by esbuild (CommonJS)
//   index.js.LEGAL.txt the licence comments esbuild took out of the bundled packages
//   start.cjs          the package's `main`: loads index.js with its V8 code cache
//   code_cache.cjs     the package's `gcp-build`: makes index.js.cache at deploy (code_cache.mjs)
//   preload.cjs        required first (NODE_OPTIONS): the framework's dependencies from
//   framework_deps.cjs one bundle of them, made from the lockfile's install (framework_preload.mjs)
//   package.json       `main: start.cjs`, `gcp-build: node code_cache.cjs` and one dependency,
//                      the Functions Framework (with `overrides`: framework_overrides.mjs)
//   package-lock.json  pins the framework's own dependencies, so Cloud Build runs `npm ci`
// plus dist/functions/<name>.zip (what Terraform uploads) and dist/functions/sizes.json.
//
// Invariant: the Functions Framework is never bundled. The framework process loads the
// bundle and looks the target up in its own function registry; a second, bundled copy of
// the framework would register the target in a registry nobody reads.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { zipDirectory } from "./build_zip.mjs";
import { CODE_CACHE_BUILD, CODE_CACHE_MAIN, writeCodeCacheFiles } from "./code_cache.mjs";
import { assertAscii } from "./code_cache_load.mjs";
import { installedPackage } from "./deployed_install.mjs";
import { checkOverrides, FRAMEWORK_OVERRIDES } from "./framework_overrides.mjs";
import { writeFrameworkPreload } from "./framework_preload.mjs";
import { lazyDescriptorsPlugin } from "./lazy_descriptors.mjs";
import { lazyMixinsPlugin } from "./lazy_mixins.mjs";
import { lazyPubsubProtosPlugin } from "./lazy_pubsub_protos.mjs";
import { lazyRequiresPlugin } from "./lazy_requires.mjs";
import {
  PRECOMPILED_FILE,
  precompiledCodecsPlugin,
  writePrecompiledCodecs,
} from "./precompiled_codecs.mjs";
import {
  SERVICES,
  serviceDescriptorsPlugin,
  writeServiceDescriptors,
} from "./service_descriptors.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const FRAMEWORK = "@google-cloud/functions-framework";
/** Where the packages' installs are kept between builds (and tests: test/helpers/bundles.ts). */
export const installCache = (root = ROOT) =>
  join(root, "node_modules", ".cache", "vertex-dispatch");
/** SPEC §12: the deployable bundle of each function is at most 10 MB. */
export const SIZE_LIMIT_BYTES = 10 * 1024 * 1024;

/** Every folder under functions/ with an index.ts is a deployed function. */
export function functionNames(root = ROOT) {
  const dir = join(root, "functions");
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .filter((name) => {
      try {
        return statSync(join(dir, name, "index.ts")).isFile();
      } catch {
        return false;
      }
    })
    .sort();
}

/**
 * Bundles one entry point for Node (CommonJS, minified, names kept for stack traces;
 * `readable` leaves it unminified, with esbuild's `// <path>` line before each module, for
 * bench/module_times.ts, never for a deployed package).
 * Shared by every target (functions here; the CLI may call it with its own entry, outfile
 * and format). `import.meta.url` is defined from __filename, so code that finds files
 * next to itself keeps working inside a CommonJS bundle.
 */
export async function bundle({
  entry,
  outfile,
  external = [],
  format = "cjs",
  banner = "",
  plugins = [],
  readable = false,
}) {
  const cjs = format === "cjs";
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format,
    minify: !readable,
    keepNames: true,
    legalComments: "external",
    external,
    metafile: true,
    logLevel: "warning",
    plugins,
    define: cjs ? { "import.meta.url": "__vd_import_meta_url" } : {},
    banner: {
      js: [
        banner,
        cjs ? 'var __vd_import_meta_url=require("node:url").pathToFileURL(__filename).href;' : "",
      ]
        .filter(Boolean)
        .join("\n"),
    },
  });
  return result.metafile;
}

function rootPackage(root) {
  return JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
}

/**
 * The deployed package.json: the framework at the exact version the repo tests with, and
 * the versions picked inside its ranges for its start-up (scripts/framework_overrides.mjs).
 */
export function functionPackageJson(name, root = ROOT) {
  const pkg = rootPackage(root);
  const version = pkg.dependencies?.[FRAMEWORK];
  if (!version) throw new Error(`package.json has no dependency ${FRAMEWORK}; add it`);
  return {
    name: `vertex-dispatch-${name}`,
    version: pkg.version,
    private: true,
    description: `vertex-dispatch Cloud Function "${name}" (bundled by scripts/build.mjs)`,
    license: pkg.license,
    main: "index.js",
    engines: { node: ">=20" },
    scripts: { "gcp-build": "" },
    dependencies: { [FRAMEWORK]: version },
    overrides: FRAMEWORK_OVERRIDES,
  };
}

/**
 * `npm install --package-lock-only`: resolves the framework's tree without installing it,
 * then checks that the tree holds the overrides inside every range (framework_overrides.mjs).
 */
function writeLockfile(dir) {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const args = ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"];
  const run = spawnSync(npm, [...args, "--prefer-offline"], { cwd: dir, encoding: "utf8" });
  if (run.status !== 0)
    throw new Error(
      `npm could not resolve ${FRAMEWORK} for ${dir} (is the npm registry reachable?):\n${run.stderr}`,
    );
  const problems = checkOverrides(JSON.parse(readFileSync(join(dir, "package-lock.json"), "utf8")));
  if (problems.length > 0)
    throw new Error(`the framework's overrides in ${dir}:\n  ${problems.join("\n  ")}`);
}

function directoryBytes(dir) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    total += st.isDirectory() ? directoryBytes(path) : st.size;
  }
  return total;
}

/**
 * Builds dist/functions/<name>/ and its zip; returns the sizes in bytes. `descriptors` holds
 * the service-only descriptors (writeServiceDescriptors, once per build of every function).
 */
async function buildFunction(name, { root, outRoot, descriptors, readable }) {
  const dir = join(outRoot, "functions", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const meta = await bundle({
    entry: join(root, "functions", name, "index.ts"),
    outfile: join(dir, "index.js"),
    external: [FRAMEWORK],
    readable,
    // The JobService client's IAM, Locations and Operations clients are made on first use,
    // proto-loader's reflection descriptors (never read by a client) and Pub/Sub's static
    // protos export (never read by the product) on first read; whatwg-url, mime,
    // html-entities and @opentelemetry/core on first use (scripts/lazy_requires.mjs).
    plugins: [
      serviceDescriptorsPlugin(descriptors),
      precompiledCodecsPlugin(join(descriptors, PRECOMPILED_FILE)),
      lazyMixinsPlugin(),
      lazyDescriptorsPlugin(),
      lazyPubsubProtosPlugin(),
      lazyRequiresPlugin(),
    ],
  });
  // A readable build (bench:modules only, never deployed) keeps esbuild's preserved
  // comments, which may hold non-ASCII; read as latin1, only a comment's text differs.
  if (!readable) assertAscii(join(dir, "index.js"), { readFileSync });
  // start.cjs loads index.js with the V8 code cache that gcp-build makes at deploy.
  writeCodeCacheFiles(dir);
  const pkg = {
    ...functionPackageJson(name, root),
    main: CODE_CACHE_MAIN,
    scripts: { "gcp-build": CODE_CACHE_BUILD },
  };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  writeLockfile(dir);
  // The framework's dependencies, bundled from what `npm ci` installs of that lockfile.
  await writeFrameworkPreload(dir, installedPackage(dir, installCache(root)));
  const zip = join(outRoot, "functions", `${name}.zip`);
  const zipBytes = zipDirectory(dir, zip);
  // Beside the package, not in it: what the bundle was built from, so tests reuse a fresh build.
  const inputs = Object.keys(meta.inputs).sort();
  writeFileSync(
    join(outRoot, "functions", `${name}.inputs.json`),
    `${JSON.stringify({ hash: inputsHash(root, inputs), inputs }, null, 2)}\n`,
  );
  return {
    name,
    bundle_bytes: statSync(join(dir, "index.js")).size,
    package_bytes: directoryBytes(dir),
    zip_bytes: zipBytes,
    zip,
  };
}

/**
 * Files besides the bundle's own inputs that change what a build makes: the lockfiles and
 * every module of the build itself (test/unit/build_inputs.test.ts checks that each script
 * build.mjs imports, directly or not, is listed).
 */
export const BUILD_FILES = [
  "package.json",
  "package-lock.json",
  "scripts/build.mjs",
  "scripts/build_zip.mjs",
  "scripts/service_descriptors.mjs",
  "scripts/precompiled_codecs.mjs",
  "scripts/lazy_mixins.mjs",
  "scripts/lazy_descriptors.mjs",
  "scripts/lazy_pubsub_protos.mjs",
  "scripts/lazy_requires.mjs",
  "scripts/code_cache.mjs",
  "scripts/code_cache_load.mjs",
  "scripts/framework_overrides.mjs",
  "scripts/framework_preload.mjs",
  "scripts/request_domain.mjs",
  "scripts/deployed_install.mjs",
];

/** SHA-256 over the bundle's inputs (paths relative to root) and the build's own files. */
export function inputsHash(root, inputs) {
  const hash = createHash("sha256");
  for (const file of [...BUILD_FILES, ...inputs]) {
    hash.update(`${file}\0`);
    try {
      hash.update(readFileSync(join(root, file)));
    } catch {
      hash.update("<missing>");
    }
  }
  return hash.digest("hex");
}

/** True when dist/functions/<name> was built from exactly the files there are now. */
export function isFresh(name, root = ROOT) {
  try {
    const manifest = JSON.parse(
      readFileSync(join(root, "dist", "functions", `${name}.inputs.json`), "utf8"),
    );
    statSync(join(root, "dist", "functions", `${name}.zip`));
    return manifest.hash === inputsHash(root, manifest.inputs);
  } catch {
    return false;
  }
}

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(2);

/** The sizes an earlier build wrote for functions that still exist and are still built. */
export function keptSizes(sizesFile, names) {
  let earlier = {};
  try {
    earlier = JSON.parse(readFileSync(sizesFile, "utf8")).functions ?? {};
  } catch {
    return {};
  }
  const built = (name) => existsSync(join(dirname(sizesFile), name, "index.js"));
  return Object.fromEntries(
    Object.entries(earlier).filter(([name]) => names.includes(name) && built(name)),
  );
}

/** Builds every function (or the names given), writes sizes.json, prints the size report. */
export async function buildFunctions({
  root = ROOT,
  names = functionNames(root),
  log = console.log,
  // Elsewhere than dist/ and unminified: bench/module_times.ts's instrumented build.
  outRoot = join(root, "dist"),
  readable = false,
} = {}) {
  // The JobService client and Pub/Sub's publisher load only their service's part of their
  // package's protos (scripts/service_descriptors.mjs): the same files for every function.
  const descriptors = join(outRoot, "generated");
  writeServiceDescriptors(descriptors);
  // protobufjs's codecs for their message types, written once here instead of on every cold
  // start (scripts/precompiled_codecs.mjs).
  writePrecompiledCodecs(
    descriptors,
    Object.values(SERVICES).map((s) => s.file),
  );
  const sizes = [];
  for (const name of names)
    sizes.push(await buildFunction(name, { root, outRoot, descriptors, readable }));
  const sizesFile = join(outRoot, "functions", "sizes.json");
  const report = {
    limit_bytes: SIZE_LIMIT_BYTES,
    functions: {
      // A partial build (ensureBuilt's stale functions only) keeps the others' sizes.
      ...keptSizes(sizesFile, functionNames(root)),
      ...Object.fromEntries(sizes.map(({ name, zip: _zip, ...rest }) => [name, rest])),
    },
  };
  writeFileSync(sizesFile, `${JSON.stringify(report, null, 2)}\n`);
  log("function   index.js   package    zip        (MB; limit 10 MB each)");
  for (const s of sizes)
    log(
      `${s.name.padEnd(10)} ${mb(s.bundle_bytes).padStart(8)}   ${mb(s.package_bytes).padStart(8)}   ${mb(s.zip_bytes).padStart(8)}`,
    );
  const over = sizes.filter((s) => Math.max(s.package_bytes, s.zip_bytes) > SIZE_LIMIT_BYTES);
  return { sizes, over };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const names = process.argv.slice(2);
  // Other targets join `npm run build` (not `node scripts/build.mjs NAME`): the CLI bundle
  // has its own script (scripts/build-cli.mjs, also run on `prepare`) where it exists.
  const cliScript = join(ROOT, "scripts", "build-cli.mjs");
  if (names.length === 0 && existsSync(cliScript))
    await (await import(pathToFileURL(cliScript).href)).buildCli({ root: ROOT });
  const { over } = await buildFunctions(names.length > 0 ? { names } : {});
  if (over.length > 0) {
    console.error(
      `build: over the 10 MB limit (SPEC §12): ${over.map((s) => s.name).join(", ")}; see the bundle's metafile for what grew`,
    );
    process.exit(1);
  }
}
