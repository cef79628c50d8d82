// The service-only descriptors the function bundles carry (scripts/service_descriptors.mjs:
// aiplatform's JobService, Pub/Sub's Publisher) encode and decode exactly like the full
// protos.json each package ships: for every method kept (all of the Publisher's; JobService's
// CustomJob methods, exactly the ones shared/vertex/jobs.ts lets the product call), the gRPC
// codec google-gax
// builds from each descriptor (the client package's own proto-loader and options) gives the
// same request bytes and the same decoded response, for realistic requests (the resolver's
// CreateCustomJobRequest, a status event's PublishRequest) and for generated messages that
// set every field.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import type * as protobuf from "protobufjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as descriptor from "../../scripts/service_descriptors.mjs";
import { JOB_SERVICE_METHODS } from "../../shared/vertex/jobs.js";
import { baseMessage, baseQueue, resolveRaw } from "../helpers/resolve_fixtures.js";

const require = createRequire(import.meta.url);
const pb = require("protobufjs") as typeof protobuf;

interface MethodCodec {
  requestSerialize(value: object): Buffer;
  responseSerialize(value: object): Buffer;
  responseDeserialize(bytes: Buffer): object;
  requestType: { type: object };
}

interface Service {
  service: string;
  methods?: string[];
  full: string;
  client: string;
}
const { SERVICES, serviceDescriptor } = descriptor as {
  SERVICES: Record<"jobService" | "publisher", Service>;
  serviceDescriptor(
    full: protobuf.INamespace,
    service: string,
    methods?: string[],
  ): protobuf.INamespace;
};

/** Both descriptors' codecs, built by google-gax and proto-loader as the client resolves them. */
function codecs({ service, methods: kept, full: fullFile, client }: Service) {
  const fromClient = createRequire(require.resolve(client));
  const gax = fromClient("google-gax") as { GrpcClient: { defaultOptions(): object } };
  const protoLoader = fromClient("@grpc/proto-loader") as {
    fromJSON(json: object, options: object): Record<string, Record<string, MethodCodec>>;
  };
  const fullJson = JSON.parse(readFileSync(fullFile, "utf8")) as protobuf.INamespace;
  const smallJson = serviceDescriptor(fullJson, service, kept);
  const options = gax.GrpcClient.defaultOptions();
  return {
    fullJson,
    smallJson,
    full: protoLoader.fromJSON(fullJson, options)[service] as Record<string, MethodCodec>,
    small: protoLoader.fromJSON(smallJson, options)[service] as Record<string, MethodCodec>,
    methods: pb.Root.fromJSON(fullJson)
      .lookupService(service)
      .methodsArray.filter((m) => !kept || kept.includes(m.name)),
  };
}

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

/** A realistic request of each service, beside the generated ones. */
const REALISTIC: Record<
  keyof typeof SERVICES,
  { method: string; request: () => object; maxShare: number }
> = {
  jobService: {
    method: "CreateCustomJob",
    maxShare: 0.02, // 16 KB of aiplatform's 1.4 MB (as compact JSON)
    request: () => {
      const request = resolveRaw(baseQueue(), baseMessage());
      return { parent: request.parent, customJob: request.customJob };
    },
  },
  publisher: {
    method: "Publish",
    maxShare: 0.3, // 18 KB of Pub/Sub's 76 KB
    request: () => ({
      topic: "projects/p/topics/launch-status",
      messages: [
        {
          data: Buffer.from(JSON.stringify({ state: "submitted", run_id: "r1" })),
          attributes: { launch_id: "l1", state: "submitted" },
          orderingKey: "l1",
        },
      ],
    }),
  },
};

for (const [id, service] of Object.entries(SERVICES) as Array<[keyof typeof SERVICES, Service]>) {
  describe(`the ${service.service}-only descriptor`, () => {
    const { fullJson, smallJson, full, small, methods } = codecs(service);

    const realistic = REALISTIC[id];
    it("is closed (every type resolves), has the kept methods, and is a small part of the full one", () => {
      pb.Root.fromJSON(smallJson).resolveAll();
      const ratio = JSON.stringify(smallJson).length / JSON.stringify(fullJson).length;
      assert.ok(
        ratio < realistic.maxShare,
        `the subset is ${(ratio * 100).toFixed(1)}% of protos.json`,
      );
      const names = methods.map((m) => m.name).sort();
      assert.deepEqual(Object.keys(small).sort(), names);
      assert.ok(names.length === (service.methods ?? Object.keys(full)).length && names.length > 0);
    });

    it(`encodes a realistic ${realistic.method} request byte for byte like the full descriptor`, () => {
      const body = realistic.request();
      const a = full[realistic.method]?.requestSerialize(body);
      const b = small[realistic.method]?.requestSerialize(body);
      assert.ok(a && a.length > 40, "the request encodes to something");
      assert.deepEqual(b, a);
    });

    for (const method of methods) {
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
          assert.deepEqual(
            codecSmall.responseDeserialize(wire),
            codecFull.responseDeserialize(wire),
          );
        }
      });
    }
  });
}

describe("the JobService methods the bundles keep", () => {
  it("are exactly the ones shared/vertex/jobs.ts lets the product call", () => {
    const kept = (SERVICES.jobService.methods ?? []).map((m) => m[0]?.toLowerCase() + m.slice(1));
    assert.deepEqual([...kept].sort(), [...JOB_SERVICE_METHODS].sort());
  });

  it("fail the build naming a method the service does not have", () => {
    const full = JSON.parse(readFileSync(SERVICES.jobService.full, "utf8"));
    assert.throws(
      () => serviceDescriptor(full, SERVICES.jobService.service, ["CreateCustomJob", "Nope"]),
      /google\.cloud\.aiplatform\.v1\.JobService has no method Nope; fix SERVICES/,
    );
  });
});
