// Pub/Sub's static protos loaded on first read inside the function bundles (issue 13):
// @google-cloud/pubsub's index.js ends with `exports.protos = require("../protos/protos")`,
// a 3 MB generated module that builds a protobufjs class for every Pub/Sub message when it
// is evaluated. Nothing in the package's own code reads it (its clients load protos.json);
// it is there for users who want the classes. This esbuild plugin turns the export into a
// getter, so the module is evaluated when `protos` is first read (esbuild keeps each
// CommonJS module behind an initialiser that runs on its first require).
//
// Invariants: the rewrite matches exactly the code it expects, once, or the build fails
// naming it; `protos` stays an enumerable export with the same value.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";

const INDEX = /[\\/]@google-cloud[\\/]pubsub[\\/]build[\\/]src[\\/]index\.js$/;
const EAGER = /const protos = require\("\.\.\/protos\/protos"\);\s*exports\.protos = protos;/g;
const LAZY =
  'Object.defineProperty(exports, "protos", { enumerable: true, configurable: true, get: () => require("../protos/protos") });';

/** The rewritten source of @google-cloud/pubsub's index.js; throws if the export changed. */
export function rewritePubsubIndex(source) {
  const found = source.match(EAGER)?.length ?? 0;
  if (found !== 1)
    throw new Error(
      `lazy-pubsub-protos: expected 1 × exports.protos = require("../protos/protos") in @google-cloud/pubsub's index.js, found ${found}; @google-cloud/pubsub changed: update scripts/lazy_pubsub_protos.mjs`,
    );
  const out = source.replace(EAGER, () => LAZY);
  if (/require\("\.\.\/protos\/protos"\)/g.exec(out.replace(LAZY, "")))
    throw new Error(
      "lazy-pubsub-protos: @google-cloud/pubsub's index.js requires ../protos/protos elsewhere too; update scripts/lazy_pubsub_protos.mjs",
    );
  return out;
}

/** The esbuild plugin; fails the build if the bundle has Pub/Sub's index and it was not rewritten. */
export function lazyPubsubProtosPlugin() {
  return {
    name: "lazy-pubsub-protos",
    setup(build) {
      let rewritten = 0;
      build.onStart(() => {
        rewritten = 0;
      });
      build.onLoad({ filter: /pubsub[\\/]build[\\/]src[\\/]index\.js$/ }, (args) => {
        if (!INDEX.test(args.path)) return undefined;
        rewritten++;
        const contents = rewritePubsubIndex(readFileSync(args.path, "utf8"));
        return { contents, loader: "js", resolveDir: dirname(args.path) };
      });
      build.onEnd((result) => {
        const has = Object.keys(result.metafile?.inputs ?? {}).some((f) =>
          /@google-cloud\/pubsub\/build\/src\/index\.js$/.test(f),
        );
        if (has && rewritten === 0)
          throw new Error(
            "lazy-pubsub-protos: the bundle has @google-cloud/pubsub but the plugin never loaded its index.js; update scripts/lazy_pubsub_protos.mjs",
          );
      });
    },
  };
}
