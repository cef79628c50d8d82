// The @grpc/proto-loader the function bundles carry (scripts/lazy_descriptors.mjs) computes
// each definition's reflection descriptors (`type`, `fileDescriptorProtos`) on first read and
// otherwise builds the same package definition as the shipped one: bundled here with the
// build's plugin, both load the JobService descriptor the bundles use and google-gax's
// Operations, IAM and Locations protos, and every definition must be equal, field by field.
// protobufjs's descriptor extension, which only those descriptors read, is loaded on first read.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bundle } from "../../scripts/build.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as lazy from "../../scripts/lazy_descriptors.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as descriptor from "../../scripts/service_descriptors.mjs";

const require = createRequire(import.meta.url);
// proto-loader and google-gax as the aiplatform client resolves them.
const fromClient = createRequire(require.resolve("@google-cloud/aiplatform"));
const LOADER = fromClient.resolve("@grpc/proto-loader");
const PROTOBUF = createRequire(LOADER).resolve("protobufjs");
const gaxDir = join(dirname(fromClient.resolve("google-gax")), "..", "..");
const { rewriteProtoLoader, lazyDescriptorsPlugin } = lazy as {
  rewriteProtoLoader(source: string): string;
  lazyDescriptorsPlugin(): object;
};
const { writeServiceDescriptors } = descriptor as { writeServiceDescriptors(dir: string): void };

type Definition = Record<string, unknown>;
type PackageDefinition = Record<string, Definition>;
type Loader = {
  fromJSON(json: object, options: object): PackageDefinition;
  loadFileDescriptorSetFromObject(set: object, options: object): PackageDefinition;
  loadFileDescriptorSetFromBuffer(set: Buffer, options: object): PackageDefinition;
};
/** The bundle's own protobufjs: its Type gets toDescriptor only from the descriptor extension. */
type Protobuf = { Type: { prototype: Record<string, unknown> } };
const OPTIONS = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

let dir = "";
let rewritten: Loader;
let bundledProtobuf: Protobuf;
const shipped = fromClient("@grpc/proto-loader") as Loader;
const inputs: Record<string, object> = {};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "vd-lazy-descriptors-"));
  writeFileSync(
    join(dir, "entry.cjs"),
    `module.exports = { loader: require(${JSON.stringify(LOADER)}), protobuf: require(${JSON.stringify(PROTOBUF)}) };\n`,
  );
  await bundle({
    entry: join(dir, "entry.cjs"),
    outfile: join(dir, "loader.cjs"),
    plugins: [lazyDescriptorsPlugin()],
  });
  ({ loader: rewritten, protobuf: bundledProtobuf } = require(join(dir, "loader.cjs")));
  writeServiceDescriptors(dir);
  inputs.jobService = JSON.parse(readFileSync(join(dir, "job_service_protos.json"), "utf8"));
  inputs.publisher = JSON.parse(readFileSync(join(dir, "publisher_protos.json"), "utf8"));
  for (const name of ["operations", "iam_service", "locations"])
    inputs[name] = JSON.parse(
      readFileSync(join(gaxDir, "build", "protos", `${name}.json`), "utf8"),
    );
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const isLazy = (o: object, key: string) =>
  typeof Object.getOwnPropertyDescriptor(o, key)?.get === "function";

/** Every definition object of a package definition: types, enums, and each method's two types. */
function objects(def: Record<string, Definition>): Array<[string, Definition]> {
  const out: Array<[string, Definition]> = [];
  for (const [name, d] of Object.entries(def)) {
    if ("format" in d) out.push([name, d]);
    else
      for (const [m, method] of Object.entries(d as Record<string, Definition>)) {
        out.push([`${name}.${m}.requestType`, method.requestType as Definition]);
        out.push([`${name}.${m}.responseType`, method.responseType as Definition]);
      }
  }
  return out;
}

describe("the bundled @grpc/proto-loader with lazy descriptors", () => {
  it("builds the same definitions, and computes descriptors only when read", () => {
    const extended = () => typeof bundledProtobuf.Type.prototype.toDescriptor === "function";
    assert.ok(!extended(), "the descriptor extension is not loaded with proto-loader");
    for (const def of Object.values(inputs)) rewritten.fromJSON(def, OPTIONS);
    assert.ok(!extended(), "nor by fromJSON");
    for (const [label, json] of Object.entries(inputs)) {
      const want = shipped.fromJSON(json, OPTIONS);
      const got = rewritten.fromJSON(json, OPTIONS);
      assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), label);
      const pairs = objects(got);
      assert.ok(pairs.length > 5, `${label} has definitions`);
      for (const [name, d] of pairs) {
        assert.ok(isLazy(d, "type") && isLazy(d, "fileDescriptorProtos"), `${name} is lazy`);
      }
      const wanted = new Map(objects(want));
      for (const [name, d] of pairs) {
        const w = wanted.get(name) as Definition;
        assert.equal(d.format, w.format, name);
        assert.deepEqual(d.type, w.type, `${name}.type`);
        assert.deepEqual(d.fileDescriptorProtos, w.fileDescriptorProtos, name);
        assert.ok(!isLazy(d, "type"), `${name}.type is kept once computed`);
      }
      assert.ok(extended(), "reading a descriptor loaded the extension");
      for (const [svc, d] of Object.entries(got)) {
        if ("format" in d) continue;
        for (const [m, method] of Object.entries(d as Record<string, Definition>)) {
          const w = (want[svc] as Record<string, Definition>)[m] as Definition;
          assert.equal(method.path, w.path);
          assert.equal(method.originalName, w.originalName);
          assert.deepEqual(method.options, w.options);
        }
      }
    }
  });

  it("serializes and deserializes like the shipped loader", () => {
    const json = inputs.operations as object;
    const svc = "google.longrunning.Operations";
    type Codec = { requestSerialize(v: object): Buffer; responseDeserialize(b: Buffer): object };
    const a = (shipped.fromJSON(json, OPTIONS)[svc] as Record<string, Codec>).GetOperation;
    const b = (rewritten.fromJSON(json, OPTIONS)[svc] as Record<string, Codec>).GetOperation;
    const bytes = a?.requestSerialize({ name: "operations/1" });
    assert.ok(bytes && bytes.length > 5);
    assert.deepEqual(b?.requestSerialize({ name: "operations/1" }), bytes);
    assert.deepEqual(b?.responseDeserialize(bytes), a?.responseDeserialize(bytes));
  });

  it("loads a FileDescriptorSet like the shipped loader", () => {
    const json = inputs.operations as object;
    const set = {
      file: shipped.fromJSON(json, OPTIONS)["google.longrunning.Operation"]?.fileDescriptorProtos,
    };
    const buffers = set.file as Buffer[];
    assert.ok(buffers.length > 0);
    // One FileDescriptorSet, made with the shipped extension, given to both loaders.
    const shippedExt = fromClient("protobufjs/ext/descriptor") as {
      FileDescriptorSet: {
        encode(o: object): { finish(): Buffer };
        toObject(m: object): object;
        decode(b: Buffer): object;
      };
      FileDescriptorProto: { decode(b: Buffer): object };
    };
    const setBytes = shippedExt.FileDescriptorSet.encode({
      file: buffers.map((b) => shippedExt.FileDescriptorProto.decode(b)),
    }).finish();
    const asObject = shippedExt.FileDescriptorSet.toObject(
      shippedExt.FileDescriptorSet.decode(setBytes),
    );
    const svc = "google.longrunning.Operations";
    for (const [label, load] of [
      ["buffer", (l: Loader) => l.loadFileDescriptorSetFromBuffer(setBytes, OPTIONS)],
      ["object", (l: Loader) => l.loadFileDescriptorSetFromObject(asObject, OPTIONS)],
    ] as const) {
      const want = load(shipped);
      const got = load(rewritten);
      assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), label);
      type Method = Definition & { requestSerialize(v: object): Buffer };
      const method = (d: PackageDefinition) =>
        (d[svc] as Record<string, Method>).GetOperation as Method;
      assert.equal(method(got).path, method(want).path, label);
      const request = { name: "operations/1" };
      assert.deepEqual(
        method(got).requestSerialize(request),
        method(want).requestSerialize(request),
      );
    }
  });

  it("fails the build naming the rewrite when proto-loader changes", () => {
    const source = readFileSync(LOADER, "utf8");
    assert.doesNotThrow(() => rewriteProtoLoader(source));
    const changed = source.replace("const enumDescriptor =", "let enumDescriptor =");
    assert.throws(
      () => rewriteProtoLoader(changed),
      /expected 1 × the enum definition .* found 0; @grpc\/proto-loader changed/,
    );
  });
});
