// Modules the function bundles load on first use instead of at start-up (issue 13): four
// packages that a bundled dependency requires at its top level but calls only on a path the
// product never takes in a cold start, each measured in an instrumented cold start of the
// deployed dispatch (esbuild's module initialisers timed, six runs):
//   whatwg-url   node-fetch 2 (under Storage's teeny-request) uses `Url.URL || whatwgUrl.URL`,
//                so on Node 10 and later it never reads whatwg-url, whose tr46 parses a
//                230 KB mapping table when loaded (about 15 ms);
//   mime         Storage's File.createWriteStream and Bucket.combine call `mime.getType` only
//                when no content type is given (every product write gives one): mime builds
//                its type maps when loaded (about 10 ms);
//   html-entities Storage decodes an HTML error body with it, only when a request failed;
//   @opentelemetry/core  Pub/Sub makes a W3C trace-context propagator from it at its
//                tracing module's top level, used only when OpenTelemetry tracing is
//                enabled (about 5 ms; 49 module initialisations with what it requires);
//   child_process Node's module, required at the top level of seven files (the three copies
//                of google-auth-library: `gcloud config config-helper` for a project id when
//                none is given, and executable-sourced external credentials; google-gax:
//                its mTLS client-certificate helper), each calling it in one place only,
//                on a path the functions never take (they pass the project id): about 3-6 ms
//                (13 instrumented cold starts, 2026-12-02).
// Each entry names the file, the exact eager text, what replaces it and how many times it
// must occur; the replacement requires the same module at the same point of the call.
//
// Invariants: every rewrite matches exactly the code it expects, the expected number of
// times, or the build fails naming it; no eager use of the module is left in the file; a
// bundle that holds the file but never loaded it through the plugin fails the build; no
// other bundled file imports the module (Node's own modules included). A file matches the
// entry with the longest path it ends with (a nested copy of a package has its own entry).
import { readFileSync } from "node:fs";
import { dirname } from "node:path";

/** Storage's two users of mime call only `mime.getType`. */
const MIME_ON_FIRST_USE = {
  eager: "import mime from 'mime';\n",
  lazy: "const mime = { getType: (path) => require('mime').getType(path) };\n",
  count: 1,
};

/** A file's one call of child_process's `method` through `binding`, required at the call. */
function childProcessOnCall(file, binding, method, eagerCall) {
  return {
    file,
    module: "child_process",
    rewrites: [
      { eager: `const ${binding} = require("child_process");\n`, lazy: "", count: 1 },
      { eager: eagerCall, lazy: `require("child_process").${method}(`, count: 1 },
    ],
    left: new RegExp(`\\b${binding}\\b`),
  };
}

const AUTH_COPIES = [
  "node_modules/google-auth-library",
  "node_modules/google-gax/node_modules/google-auth-library",
  "node_modules/@google-cloud/storage/node_modules/google-auth-library",
];

/** The rewrites, by file (a path ending, with / as separator). */
export const LAZY_REQUIRES = [
  ...AUTH_COPIES.flatMap((root) => [
    childProcessOnCall(
      `${root}/build/src/auth/googleauth.js`,
      "child_process_1",
      "exec",
      "(0, child_process_1.exec)(",
    ),
    childProcessOnCall(
      `${root}/build/src/auth/pluggable-auth-handler.js`,
      "childProcess",
      "spawn",
      "childProcess.spawn(",
    ),
  ]),
  childProcessOnCall(
    "node_modules/google-gax/build/src/grpc.js",
    "child_process_1",
    "execFile",
    "(0, child_process_1.execFile)(",
  ),
  {
    file: "node_modules/node-fetch/lib/index.js",
    module: "whatwg-url",
    rewrites: [
      { eager: "var whatwgUrl = _interopDefault(require('whatwg-url'));\n", lazy: "", count: 1 },
      {
        eager: "Url.URL || whatwgUrl.URL",
        lazy: "Url.URL || _interopDefault(require('whatwg-url')).URL",
        count: 2,
      },
    ],
    left: /\bwhatwgUrl\b/,
  },
  {
    file: "node_modules/@google-cloud/storage/build/esm/src/file.js",
    module: "mime",
    rewrites: [MIME_ON_FIRST_USE],
    left: /from 'mime'|\bmime\.(?!getType\(this\.name\))/,
  },
  {
    file: "node_modules/@google-cloud/storage/build/esm/src/bucket.js",
    module: "mime",
    rewrites: [MIME_ON_FIRST_USE],
    left: /from 'mime'|\bmime\.(?!getType\(destinationFile\.name\))/,
  },
  {
    file: "node_modules/@google-cloud/storage/build/esm/src/nodejs-common/util.js",
    module: "html-entities",
    rewrites: [
      {
        eager: "import * as htmlEntities from 'html-entities';\n",
        lazy: "const htmlEntities = { decode: (text) => require('html-entities').decode(text) };\n",
        count: 1,
      },
    ],
    left: /from 'html-entities'|\bhtmlEntities\.(?!decode\(err\.response\.body\.toString\(\)\))/,
  },
  {
    file: "node_modules/@google-cloud/pubsub/build/src/telemetry-tracing.js",
    module: "@opentelemetry/core",
    rewrites: [
      { eager: 'const core_1 = require("@opentelemetry/core");\n', lazy: "", count: 1 },
      {
        eager: "const w3cTraceContextPropagator = new core_1.W3CTraceContextPropagator();",
        lazy: [
          "let w3cTraceContextPropagatorMade;",
          "const w3cTraceContextPropagator = {",
          "    inject: (...args) => w3cTraceContextPropagatorOnce().inject(...args),",
          "    extract: (...args) => w3cTraceContextPropagatorOnce().extract(...args),",
          "};",
          "function w3cTraceContextPropagatorOnce() {",
          '    return (w3cTraceContextPropagatorMade ??= new (require("@opentelemetry/core").W3CTraceContextPropagator)());',
          "}",
        ].join("\n"),
        count: 1,
      },
    ],
    left: /\bcore_1\b|w3cTraceContextPropagator\.(?!inject\(|extract\()/,
  },
];

const count = (source, text) => source.split(text).length - 1;

/** The rewritten source of one listed file; throws, naming the file and the text, if it changed. */
export function rewriteLazyRequires(entry, source) {
  let out = source;
  for (const { eager, lazy, count: expected } of entry.rewrites) {
    const found = count(out, eager);
    if (found !== expected)
      throw new Error(
        `lazy-requires: expected ${expected} × ${JSON.stringify(eager.trim())} in ${entry.file}, found ${found}; the package changed: update scripts/lazy_requires.mjs`,
      );
    out = out.split(eager).join(lazy);
  }
  const lazyText = entry.rewrites.map((r) => r.lazy).filter(Boolean);
  const rest = lazyText.reduce((s, text) => s.split(text).join(""), out);
  if (entry.left.test(rest))
    throw new Error(
      `lazy-requires: ${entry.file} still uses ${entry.module} eagerly after the rewrite (${rest.match(entry.left)?.[0]}); update scripts/lazy_requires.mjs`,
    );
  return out;
}

/** esbuild's onLoad filter: exactly the listed files (any separator). */
const LISTED = new RegExp(
  `(${LAZY_REQUIRES.map((e) => e.file.replace(/[.@]/g, "\\$&").replaceAll("/", "[\\\\/]")).join("|")})$`,
);

/** The entry of a path: the one with the longest file the path ends with. */
function entryFor(path) {
  const p = path.replaceAll("\\", "/");
  const matches = LAZY_REQUIRES.filter((e) => p === e.file || p.endsWith(`/${e.file}`));
  return matches.sort((a, b) => b.file.length - a.file.length)[0];
}

const packageOf = (path) =>
  path.replaceAll("\\", "/").match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/)?.[1];

/**
 * "<file> also imports <module>" for every bundled file outside a lazy module that imports
 * it and is not one of the listed files (esbuild's metafile: each input's imports).
 */
export function eagerImporters(inputs) {
  const lazy = new Set(LAZY_REQUIRES.map((e) => e.module));
  const out = [];
  for (const [input, { imports }] of Object.entries(inputs)) {
    const own = packageOf(input);
    if (lazy.has(own) || entryFor(input)) continue;
    for (const { path } of imports) {
      const target = path ? (packageOf(path) ?? path.replace(/^node:/, "")) : undefined;
      if (target && lazy.has(target)) out.push(`${input} also imports ${target}`);
    }
  }
  return out;
}

/** The esbuild plugin; fails the build if the bundle holds a listed file it did not rewrite. */
export function lazyRequiresPlugin() {
  return {
    name: "lazy-requires",
    setup(build) {
      const rewritten = new Set();
      build.onStart(() => rewritten.clear());
      build.onLoad({ filter: LISTED }, (args) => {
        const entry = entryFor(args.path);
        rewritten.add(entry.file);
        const contents = rewriteLazyRequires(entry, readFileSync(args.path, "utf8"));
        return { contents, loader: "js", resolveDir: dirname(args.path) };
      });
      build.onEnd((result) => {
        const inputs = result.metafile?.inputs ?? {};
        for (const input of Object.keys(inputs)) {
          const entry = entryFor(input);
          if (entry && !rewritten.has(entry.file))
            throw new Error(
              `lazy-requires: the bundle has ${entry.file} but the plugin never loaded it; update scripts/lazy_requires.mjs`,
            );
        }
        const eager = eagerImporters(inputs);
        if (eager.length > 0)
          throw new Error(
            `lazy-requires: ${eager.join("; ")}, so loading it lazily saves nothing; list that file in scripts/lazy_requires.mjs too`,
          );
      });
    },
  };
}
