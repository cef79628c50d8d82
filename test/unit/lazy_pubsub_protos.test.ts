// @google-cloud/pubsub as the function bundles carry it (scripts/lazy_pubsub_protos.mjs):
// its static `protos` export is evaluated on first read, not at import, and is then the
// same generated module: bundled here with the build's plugin, a PubsubMessage encodes to
// the same bytes as with the shipped package.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bundle } from "../../scripts/build.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as lazy from "../../scripts/lazy_pubsub_protos.mjs";

const require = createRequire(import.meta.url);
const INDEX = require.resolve("@google-cloud/pubsub");
const fromPubsub = createRequire(INDEX);
const { rewritePubsubIndex, lazyPubsubProtosPlugin } = lazy as {
  rewritePubsubIndex(source: string): string;
  lazyPubsubProtosPlugin(): object;
};

type Codec = { encode(m: object): { finish(): Uint8Array }; decode(b: Uint8Array): object };
type Protos = { google: { pubsub: { v1: { PubsubMessage: Codec } } } };
interface Bundled {
  pubsub: { protos: Protos; PubSub: unknown };
  /** The protobufjs runtime the generated module registers its root in. */
  minimal: { roots: Record<string, unknown> };
}

let dir = "";
let bundled: Bundled;
const ROOT_NAME = "_google_cloud_pubsub_protos";

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "vd-lazy-pubsub-"));
  const entry = [
    `exports.pubsub = require(${JSON.stringify(INDEX)});`,
    `exports.minimal = require(${JSON.stringify(fromPubsub.resolve("google-gax/build/src/protobuf"))}).protobufMinimal;`,
  ];
  writeFileSync(join(dir, "entry.cjs"), `${entry.join("\n")}\n`);
  await bundle({
    entry: join(dir, "entry.cjs"),
    outfile: join(dir, "pubsub.cjs"),
    plugins: [lazyPubsubProtosPlugin()],
  });
  bundled = require(join(dir, "pubsub.cjs"));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the bundled @google-cloud/pubsub with lazy static protos", () => {
  it("evaluates the protos module on first read of `protos`, not at import", () => {
    assert.equal(typeof bundled.pubsub.PubSub, "function", "the package loaded");
    assert.ok(!(ROOT_NAME in bundled.minimal.roots), "protos.js was evaluated at import");
    const get = Object.getOwnPropertyDescriptor(bundled.pubsub, "protos")?.get;
    assert.equal(typeof get, "function");
    assert.ok(Object.keys(bundled.pubsub).includes("protos"), "protos stays enumerable");
    const message = bundled.pubsub.protos.google.pubsub.v1.PubsubMessage;
    assert.ok(ROOT_NAME in bundled.minimal.roots, "protos.js evaluated once read");
    assert.equal(bundled.pubsub.protos, bundled.pubsub.protos, "one module, read twice");
    const shipped = (require("@google-cloud/pubsub") as { protos: Protos }).protos.google.pubsub.v1
      .PubsubMessage;
    const value = { data: Buffer.from("hello"), attributes: { a: "1" }, orderingKey: "k" };
    const bytes = Buffer.from(shipped.encode(value).finish());
    assert.ok(bytes.length > 10);
    assert.deepEqual(Buffer.from(message.encode(value).finish()), bytes);
  });

  it("fails the build naming the export when the shipped index changes", () => {
    const source = readFileSync(INDEX, "utf8");
    assert.doesNotThrow(() => rewritePubsubIndex(source));
    const changed = source.replace("exports.protos = protos;", "module.exports.protos = protos;");
    assert.throws(() => rewritePubsubIndex(changed), /found 0; @google-cloud\/pubsub changed/);
  });
});
