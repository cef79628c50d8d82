// The JobService-only descriptor the function bundles carry (scripts/job_service_descriptor.mjs)
// encodes and decodes exactly like the full protos.json @google-cloud/aiplatform ships: for
// every JobService method, the gRPC codec google-gax builds from each descriptor (its own
// proto-loader, its own options) gives the same request bytes and the same decoded response,
// for realistic requests from the resolver and for generated messages that set every field.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import type * as protobuf from "protobufjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as descriptor from "../../scripts/job_service_descriptor.mjs";
import { baseMessage, baseQueue, resolveRaw } from "../helpers/resolve_fixtures.js";

const require = createRequire(import.meta.url);
// google-gax and proto-loader as the aiplatform client resolves them.
const fromClient = createRequire(require.resolve("@google-cloud/aiplatform"));
const gax = fromClient("google-gax") as { GrpcClient: { defaultOptions(): object } };
const protoLoader = fromClient("@grpc/proto-loader") as {
  fromJSON(json: object, options: object): Record<string, Record<string, MethodCodec>>;
};
const pb = require("protobufjs") as typeof protobuf;

interface MethodCodec {
  requestSerialize(value: object): Buffer;
  responseSerialize(value: object): Buffer;
  responseDeserialize(bytes: Buffer): object;
  requestType: { type: object };
}

const { FULL_DESCRIPTOR, JOB_SERVICE, jobServiceDescriptor } = descriptor as {
  FULL_DESCRIPTOR: string;
  JOB_SERVICE: string;
  jobServiceDescriptor(full: protobuf.INamespace): protobuf.INamespace;
};
const fullJson = JSON.parse(readFileSync(FULL_DESCRIPTOR, "utf8")) as protobuf.INamespace;
const smallJson = jobServiceDescriptor(fullJson);
const options = gax.GrpcClient.defaultOptions();
const full = protoLoader.fromJSON(fullJson, options)[JOB_SERVICE] as Record<string, MethodCodec>;
const small = protoLoader.fromJSON(smallJson, options)[JOB_SERVICE] as Record<string, MethodCodec>;
const fullRoot = pb.Root.fromJSON(fullJson);
const service = fullRoot.lookupService(JOB_SERVICE);

/** A deterministic generator (LCG), so a failure names a seed that reproduces it. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const INT64 = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);

function scalar(type: string, r: () => number): unknown {
  if (type === "string") return `s${Math.floor(r() * 1e6)}`;
  if (type === "bool") return r() < 0.5;
  if (type === "bytes") return Buffer.from([Math.floor(r() * 256), 7, 0]);
  if (type === "double") return r() * 1e6 - 5e5;
  if (type === "float") return Math.fround(r() * 1000);
  if (INT64.has(type)) return String(Math.floor(r() * 2 ** 40));
  if (type.startsWith("u") || type === "fixed32") return Math.floor(r() * 2 ** 31);
  return Math.floor(r() * 2 ** 31) - 2 ** 30;
}

/** A plain object for `type` with every field set (to `depth` levels of messages). */
function sample(type: protobuf.Type, r: () => number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    const one = (): unknown => {
      const t = field.resolvedType;
      if (t instanceof pb.Enum) {
        const names = Object.keys(t.values);
        return names[Math.floor(r() * names.length)];
      }
      if (t instanceof pb.Type) return depth > 0 ? sample(t, r, depth - 1) : {};
      return scalar(field.type, r);
    };
    if (field.map) out[field.name] = { [`k${Math.floor(r() * 100)}`]: one(), z: one() };
    else if (field.repeated) out[field.name] = [one(), one()];
    else out[field.name] = one();
  }
  return out;
}

describe("the JobService-only descriptor", () => {
  it("is closed (every type resolves) and a small part of the full one", () => {
    pb.Root.fromJSON(smallJson).resolveAll();
    const ratio = JSON.stringify(smallJson).length / JSON.stringify(fullJson).length;
    assert.ok(ratio < 0.1, `the subset is ${(ratio * 100).toFixed(1)}% of protos.json`);
    assert.deepEqual(Object.keys(small).sort(), Object.keys(full).sort());
  });

  it("encodes the resolver's CreateCustomJobRequest byte for byte like the full descriptor", () => {
    const request = resolveRaw(baseQueue(), baseMessage());
    const body = { parent: request.parent, customJob: request.customJob };
    const a = full.CreateCustomJob?.requestSerialize(body);
    const b = small.CreateCustomJob?.requestSerialize(body);
    assert.ok(a && a.length > 100, "the request encodes to something");
    assert.deepEqual(b, a);
  });

  for (const method of service.methodsArray) {
    it(`${method.name}: the same request bytes and the same decoded response`, () => {
      method.resolve();
      const codecFull = full[method.name];
      const codecSmall = small[method.name];
      assert.ok(codecFull && codecSmall, `${method.name} is in both descriptors`);
      for (let seed = 1; seed <= 5; seed++) {
        const r = rng(seed * 7919 + method.name.length);
        const request = sample(method.resolvedRequestType as protobuf.Type, r, 4);
        const bytes: Buffer = codecFull.requestSerialize(request);
        assert.deepEqual(codecSmall.requestSerialize(request), bytes, `seed ${seed}`);
        const response = sample(method.resolvedResponseType as protobuf.Type, r, 4);
        const wire = codecFull.responseSerialize(response);
        assert.deepEqual(codecSmall.responseDeserialize(wire), codecFull.responseDeserialize(wire));
      }
    });
  }
});
