// The JobService-only descriptor (issue 13): the subset of @google-cloud/aiplatform's
// protos.json that v1.JobServiceClient needs, generated at build time from the protos the
// package ships, and swapped in for the full 4 MB protos.json inside the function bundles.
//
// Invariant: the subset is closed. It holds the JobService with every method, every
// message and enum reachable from a method's request or response (field by field, with
// the messages that contain a nested type and the nested types of each kept message), and
// every type a method's `google.longrunning.operation_info` names (the client looks those
// up when it is constructed). A kept message is copied whole, so its encoding cannot
// differ from the full descriptor's; test/unit/job_service_descriptor.test.ts checks that
// byte for byte.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import protobuf from "protobufjs";

const require = createRequire(import.meta.url);
export const JOB_SERVICE = "google.cloud.aiplatform.v1.JobService";
/** The full descriptor job_service_client.js requires as "../../protos/protos.json". */
export const FULL_DESCRIPTOR = require.resolve("@google-cloud/aiplatform/build/protos/protos.json");
const CLIENT =
  /[\\/]@google-cloud[\\/]aiplatform[\\/]build[\\/]src[\\/]v1[\\/]job_service_client\.js$/;

const fullName = (reflection) => reflection.fullName.replace(/^\./, "");

/** Type names in a method's google.longrunning.operation_info option (either JSON shape). */
function operationTypes(method) {
  const o = method.options ?? {};
  const nested = o["(google.longrunning.operation_info)"] ?? {};
  return [
    o["(google.longrunning.operation_info).response_type"],
    o["(google.longrunning.operation_info).metadata_type"],
    nested.response_type,
    nested.metadata_type,
  ].filter((name) => typeof name === "string" && name !== "");
}

/** Full names of the service and everything it needs (see the invariant above). */
export function closure(root, serviceName = JOB_SERVICE) {
  const keep = new Set();
  const add = (r) => {
    if (!r || keep.has(fullName(r))) return;
    keep.add(fullName(r));
    if (r.parent instanceof protobuf.Type) add(r.parent);
    if (!(r instanceof protobuf.Type)) return;
    for (const field of r.fieldsArray) add(field.resolve().resolvedType);
    for (const nested of r.nestedArray) add(nested);
  };
  const service = root.lookupService(serviceName);
  keep.add(fullName(service));
  for (const method of service.methodsArray) {
    method.resolve();
    add(method.resolvedRequestType);
    add(method.resolvedResponseType);
    for (const name of operationTypes(method)) {
      const type = service.parent.lookup(name, [protobuf.Type, protobuf.Enum]);
      if (!type)
        throw new Error(`${method.fullName}: operation_info names ${name}, not in the protos`);
      add(type);
    }
  }
  return keep;
}

/** The JSON tree with only the kept names (and the namespaces above them). */
function prune(node, prefix, keep) {
  const nested = {};
  for (const [name, child] of Object.entries(node.nested ?? {})) {
    const full = prefix ? `${prefix}.${name}` : name;
    if (keep.has(full)) nested[name] = child;
    else if ([...keep].some((k) => k.startsWith(`${full}.`))) {
      if (child.fields || child.values || child.methods)
        throw new Error(`${full} holds a kept type but is not kept itself`);
      nested[name] = prune(child, full, keep);
    }
  }
  const { nested: _dropped, ...rest } = node;
  return { ...rest, nested };
}

/** The JobService-only descriptor for a full protos.json (as parsed JSON). */
export function jobServiceDescriptor(fullJson, serviceName = JOB_SERVICE) {
  const root = protobuf.Root.fromJSON(fullJson);
  return prune(fullJson, "", closure(root, serviceName));
}

/** Writes the descriptor generated from the installed package's protos.json; returns its size. */
export function writeJobServiceDescriptor(outFile) {
  const full = JSON.parse(readFileSync(FULL_DESCRIPTOR, "utf8"));
  const text = JSON.stringify(jobServiceDescriptor(full));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, text);
  return Buffer.byteLength(text);
}

/**
 * An esbuild plugin: job_service_client.js's `require("../../protos/protos.json")` gets the
 * generated descriptor instead (no other importer is touched). Fails the build if the
 * client's require is never seen, so a package upgrade that moves it cannot go unnoticed.
 */
export function jobServiceDescriptorPlugin(descriptorFile) {
  return {
    name: "job-service-descriptor",
    setup(build) {
      let swapped = 0;
      build.onStart(() => {
        swapped = 0;
      });
      build.onResolve({ filter: /protos[\\/]protos\.json$/ }, (args) => {
        if (!CLIENT.test(args.importer)) return undefined;
        swapped++;
        return { path: descriptorFile };
      });
      build.onEnd((result) => {
        const importsClient = Object.keys(result.metafile?.inputs ?? {}).some((f) =>
          /aiplatform\/build\/src\/v1\/job_service_client\.js$/.test(f),
        );
        if (importsClient && swapped === 0)
          throw new Error(
            "job-service-descriptor: job_service_client.js no longer requires ../../protos/protos.json; update scripts/job_service_descriptor.mjs",
          );
      });
    },
  };
}
