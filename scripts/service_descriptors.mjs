// Service-only descriptors (issue 13): for each gRPC client the functions construct, the
// subset of its package's protos.json that the client needs, generated at build time from the
// protos the package ships and swapped in for the full protos.json inside the function
// bundles: aiplatform's JobService, CustomJob methods only (16 KB of 4.1 MB), and Pub/Sub's
// Publisher (18 KB of 76 KB).
// Each client turns its descriptor into gRPC definitions and a protobufjs root when it is
// made, on a launch's first delivery, so a smaller descriptor is a shorter cold start.
//
// The JobService subset keeps the service's five CustomJob methods only (`methods` below): the
// other 30 (data labeling, tuning, NAS, batch prediction, model monitoring) bring 165 of its
// 201 types, and the product never calls them (shared/vertex/jobs.ts's JOB_SERVICE_METHODS,
// which test/unit/service_descriptors.test.ts checks against this list). In a bundle, calling
// one of them fails: its gRPC stub method does not exist.
//
// Invariant: each subset is closed. It holds the service with every kept method, every message
// and enum reachable from a kept method's request or response (field by field, with the messages
// that contain a nested type and the nested types of each kept message), and every type a
// method's `google.longrunning.operation_info` names (the client looks those up when it is
// constructed). A kept message is copied whole, so its encoding cannot differ from the full
// descriptor's; test/unit/service_descriptors.test.ts checks that byte for byte.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import protobuf from "protobufjs";

const require = createRequire(import.meta.url);

/**
 * The clients whose `require("../../protos/protos.json")` gets a subset: the service, the
 * methods kept (all when absent), the full descriptor the client requires, the client
 * module, and the generated file's name.
 */
export const SERVICES = {
  jobService: {
    service: "google.cloud.aiplatform.v1.JobService",
    methods: [
      "CreateCustomJob",
      "GetCustomJob",
      "ListCustomJobs",
      "DeleteCustomJob",
      "CancelCustomJob",
    ],
    full: require.resolve("@google-cloud/aiplatform/build/protos/protos.json"),
    client: "@google-cloud/aiplatform/build/src/v1/job_service_client.js",
    file: "job_service_protos.json",
  },
  publisher: {
    service: "google.pubsub.v1.Publisher",
    full: require.resolve("@google-cloud/pubsub/build/protos/protos.json"),
    client: "@google-cloud/pubsub/build/src/v1/publisher_client.js",
    file: "publisher_protos.json",
  },
};

/** Whether an esbuild path (importer or metafile input) is `client` (a package path). */
function isClient(path, client) {
  return path.replaceAll("\\", "/").endsWith(`node_modules/${client}`);
}

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

/** The service's methods named in `methods` (all when undefined); throws on an unknown name. */
function keptMethods(service, methods) {
  if (!methods) return service.methodsArray;
  return methods.map((name) => {
    const method = service.methods[name];
    if (!method) throw new Error(`${service.fullName} has no method ${name}; fix SERVICES`);
    return method;
  });
}

/** Full names of the service and everything its kept methods need (see the invariant above). */
export function closure(root, serviceName, methods) {
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
  for (const method of keptMethods(service, methods)) {
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
function prune(node, prefix, keep, service) {
  const nested = {};
  for (const [name, child] of Object.entries(node.nested ?? {})) {
    const full = prefix ? `${prefix}.${name}` : name;
    if (full === service.name) nested[name] = service.json(child);
    else if (keep.has(full)) nested[name] = child;
    else if ([...keep].some((k) => k.startsWith(`${full}.`))) {
      if (child.fields || child.values || child.methods)
        throw new Error(`${full} holds a kept type but is not kept itself`);
      nested[name] = prune(child, full, keep, service);
    }
  }
  const { nested: _dropped, ...rest } = node;
  return { ...rest, nested };
}

/** The descriptor of `serviceName` (its `methods`, or all) alone, from a full protos.json. */
export function serviceDescriptor(fullJson, serviceName, methods) {
  const root = protobuf.Root.fromJSON(fullJson);
  const keep = closure(root, serviceName, methods);
  const service = {
    name: serviceName,
    json: (node) =>
      methods
        ? { ...node, methods: Object.fromEntries(methods.map((m) => [m, node.methods[m]])) }
        : node,
  };
  return prune(fullJson, "", keep, service);
}

/** Writes each service's descriptor into `dir` (from the installed packages); returns the sizes. */
export function writeServiceDescriptors(dir) {
  mkdirSync(dir, { recursive: true });
  const sizes = {};
  for (const [id, { service, methods, full, file }] of Object.entries(SERVICES)) {
    const json = JSON.parse(readFileSync(full, "utf8"));
    const text = JSON.stringify(serviceDescriptor(json, service, methods));
    writeFileSync(join(dir, file), text);
    sizes[id] = Buffer.byteLength(text);
  }
  return sizes;
}

/**
 * An esbuild plugin: each client's `require("../../protos/protos.json")` gets its service's
 * descriptor from `dir` (written by writeServiceDescriptors; no other importer is touched).
 * Fails the build if a bundled client's require is never seen, so a package upgrade that
 * moves it cannot go unnoticed.
 */
export function serviceDescriptorsPlugin(dir) {
  return {
    name: "service-descriptors",
    setup(build) {
      const swapped = new Map();
      build.onStart(() => swapped.clear());
      build.onResolve({ filter: /protos[\\/]protos\.json$/ }, (args) => {
        const hit = Object.entries(SERVICES).find(([, s]) => isClient(args.importer, s.client));
        if (!hit) return undefined;
        swapped.set(hit[0], (swapped.get(hit[0]) ?? 0) + 1);
        return { path: join(dir, hit[1].file) };
      });
      build.onEnd((result) => {
        const inputs = Object.keys(result.metafile?.inputs ?? {});
        for (const [id, { client }] of Object.entries(SERVICES))
          if (inputs.some((f) => isClient(f, client)) && !swapped.get(id))
            throw new Error(
              `service-descriptors: ${client} no longer requires ../../protos/protos.json; update scripts/service_descriptors.mjs`,
            );
      });
    },
  };
}
