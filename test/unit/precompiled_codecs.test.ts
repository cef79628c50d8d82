// The protobufjs the function bundles carry (scripts/precompiled_codecs.mjs) takes each message
// type's five functions from the table the build writes instead of generating them at run
// time. Bundled here with the build's plugin, beside the shipped protobufjs doing codegen as
// usual, both load the service-only descriptors the bundles use, and for requests and
// responses the product sends and reads every function must agree: the same bytes encoded,
// the same objects decoded and converted (with google-gax's options), the same verdicts. The
// bundled copy must not generate a function for a type in the table, and must generate them
// for a type of the same name defined otherwise.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bundle } from "../../scripts/build.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as precompiled from "../../scripts/precompiled_codecs.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as descriptor from "../../scripts/service_descriptors.mjs";

const require = createRequire(import.meta.url);
const PROTOBUF = require.resolve("protobufjs");
const { writePrecompiledCodecs, precompiledCodecsPlugin, rewriteType, PRECOMPILED_FILE } =
  precompiled as {
    writePrecompiledCodecs(dir: string, names: string[]): string;
    precompiledCodecsPlugin(table: string): object;
    rewriteType(source: string, table: string): string;
    PRECOMPILED_FILE: string;
  };
const { writeServiceDescriptors } = descriptor as { writeServiceDescriptors(dir: string): void };
const FILES = ["job_service_protos.json", "publisher_protos.json"];
// What google-gax's loadProtoJSON gives proto-loader (the conversions a client reads with).
const OPTIONS = { longs: String, enums: String, defaults: true, oneofs: true };

type Message = object;
type Type = {
  fromObject(o: object): Message;
  toObject(m: Message, options?: object): Record<string, unknown>;
  encode(m: Message): { finish(): Uint8Array };
  decode(b: Uint8Array): Message;
  verify(o: object): string | null;
};
type Root = { lookupType(name: string): Type; resolveAll(): Root };
type Protobuf = { Root: { fromJSON(json: object): Root } };

let dir = "";
let bundled: Protobuf;
const shipped = require(PROTOBUF) as Protobuf;
const json: Record<string, object> = {};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "vd-precompiled-codecs-"));
  writeServiceDescriptors(dir);
  const table = writePrecompiledCodecs(dir, FILES);
  writeFileSync(join(dir, "entry.cjs"), `module.exports = require(${JSON.stringify(PROTOBUF)});\n`);
  await bundle({
    entry: join(dir, "entry.cjs"),
    outfile: join(dir, "protobuf.cjs"),
    plugins: [precompiledCodecsPlugin(table)],
  });
  bundled = require(join(dir, "protobuf.cjs"));
  for (const f of FILES) json[f] = JSON.parse(readFileSync(join(dir, f), "utf8"));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `fn` counting the functions compiled through the global `Function` meanwhile. */
function countingCodegen<T>(fn: () => T): { value: T; compiled: number } {
  const original = globalThis.Function;
  let compiled = 0;
  globalThis.Function = new Proxy(original, {
    apply(target, self, args) {
      compiled++;
      return Reflect.apply(target, self, args);
    },
  });
  try {
    return { value: fn(), compiled };
  } finally {
    globalThis.Function = original;
  }
}

/**
 * Every function's result for `object`, through one protobufjs, as JSON (each bundle has its
 * own copy of the \`long\` package, so values are compared, not classes).
 */
function roundTrip(type: Type, object: object): string {
  const bytes = Buffer.from(type.encode(type.fromObject(object)).finish());
  return JSON.stringify({
    bytes: bytes.toString("hex"),
    decoded: type.toObject(type.decode(bytes), OPTIONS),
    plain: type.toObject(type.decode(bytes)),
    verdict: type.verify(object),
    badVerdict: type.verify({ ...object, [Object.keys(object)[0] ?? "x"]: 12 }),
  });
}

const CUSTOM_JOB = {
  displayName: "train-resnet",
  labels: { "launch-id": "l-1", "wandb-run-id": "r-1" },
  state: "JOB_STATE_RUNNING",
  createTime: { seconds: "1767225600", nanos: 5 },
  jobSpec: {
    serviceAccount: "train@acme-ml.iam.gserviceaccount.com",
    baseOutputDirectory: { outputUriPrefix: "gs://acme-staging/out" },
    workerPoolSpecs: [
      {
        machineSpec: {
          machineType: "a2-highgpu-1g",
          acceleratorType: "NVIDIA_TESLA_A100",
          acceleratorCount: 1,
        },
        replicaCount: "1",
        diskSpec: { bootDiskType: "pd-ssd", bootDiskSizeGb: 200 },
        containerSpec: {
          imageUri: "us-central1-docker.pkg.dev/acme-ml/train/resnet:1",
          args: ["--epochs", "3"],
          env: [{ name: "WANDB_PROJECT", value: "p" }],
        },
      },
    ],
    scheduling: { timeout: { seconds: "3600" }, restartJobOnWorkerRestart: true },
  },
  error: { code: 14, message: "The VM was preempted" },
};

const CASES: Array<[file: string, type: string, object: object]> = [
  [
    FILES[0] as string,
    "google.cloud.aiplatform.v1.CreateCustomJobRequest",
    { parent: "projects/p/locations/us-central1", customJob: CUSTOM_JOB },
  ],
  [
    FILES[0] as string,
    "google.cloud.aiplatform.v1.ListCustomJobsResponse",
    {
      customJobs: [{ ...CUSTOM_JOB, name: "projects/p/locations/r/customJobs/1" }],
      nextPageToken: "t",
    },
  ],
  [
    FILES[0] as string,
    "google.cloud.aiplatform.v1.ListCustomJobsRequest",
    { parent: "projects/p/locations/r", filter: 'labels.launch-id="l-1"', pageSize: 1000 },
  ],
  [
    FILES[1] as string,
    "google.pubsub.v1.PublishRequest",
    {
      topic: "projects/p/topics/launch-status",
      messages: [
        {
          data: Buffer.from('{"state":"running"}'),
          attributes: { state: "running" },
          orderingKey: "l-1",
        },
      ],
    },
  ],
  [FILES[1] as string, "google.pubsub.v1.PublishResponse", { messageIds: ["1", "2"] }],
];

describe("precompiled protobuf codecs", () => {
  for (const [file, typeName, object] of CASES) {
    it(`${typeName}: the bundled functions agree with codegen's, and none is generated`, () => {
      const generic = shipped.Root.fromJSON(json[file] as object).resolveAll();
      const { value: expected, compiled: generated } = countingCodegen(() =>
        roundTrip(generic.lookupType(typeName), object),
      );
      assert.ok(
        generated > 0,
        "the shipped protobufjs generates its functions (else nothing is measured)",
      );
      const root = bundled.Root.fromJSON(json[file] as object).resolveAll();
      const { value, compiled } = countingCodegen(() =>
        roundTrip(root.lookupType(typeName), object),
      );
      assert.equal(value, expected);
      assert.equal(compiled, 0, `${compiled} functions generated for ${typeName}'s types`);
    });
  }

  it("a type of the same name defined otherwise is set up by codegen, correctly", () => {
    const other = {
      nested: {
        google: {
          nested: {
            pubsub: {
              nested: {
                v1: {
                  nested: {
                    PublishResponse: {
                      fields: {
                        messageIds: { rule: "repeated", type: "string", id: 1 },
                        extra: { type: "int32", id: 7 },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    };
    const object = { messageIds: ["9"], extra: 42 };
    const generic = shipped.Root.fromJSON(other).resolveAll();
    const { value: expected, compiled: generated } = countingCodegen(() =>
      roundTrip(generic.lookupType("google.pubsub.v1.PublishResponse"), object),
    );
    const type = bundled.Root.fromJSON(other)
      .resolveAll()
      .lookupType("google.pubsub.v1.PublishResponse");
    const { value, compiled } = countingCodegen(() => roundTrip(type, object));
    assert.equal(value, expected);
    assert.equal(JSON.parse(value).decoded.extra, 42);
    assert.ok(generated > 0);
    assert.equal(compiled, generated, "codegen's functions for the type not in the table");
  });

  it("the table names every message type of the descriptors, and nothing else", () => {
    const table = require(join(dir, PRECOMPILED_FILE)) as Record<string, { signature: string }>;
    assert.ok(table[".google.cloud.aiplatform.v1.CustomJob"]);
    assert.ok(table[".google.pubsub.v1.PubsubMessage"]);
    assert.equal(table[".google.cloud.aiplatform.v1.JobState"], undefined, "an enum is no message");
    assert.ok(Object.keys(table).length > 40, `${Object.keys(table).length} types`);
  });

  it("a protobufjs whose setup changed fails the build, naming what it expected", () => {
    const source = readFileSync(join(PROTOBUF, "..", "src", "type.js"), "utf8");
    assert.match(rewriteType(source, "./t.cjs"), /__vdPre \? __vdPre\.toObject/);
    assert.throws(
      () => rewriteType(source.replace("this.verify = verifier(this)({", "this.verify = v({"), "t"),
      /expected 1 × setup's verify in protobufjs's src\/type\.js, found 0; protobufjs changed: update scripts\/precompiled_codecs\.mjs/,
    );
  });
});
