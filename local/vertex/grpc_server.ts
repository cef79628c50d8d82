// gRPC front end: google.cloud.aiplatform.v1.JobService and google.longrunning.Operations,
// with service definitions built from the shipped protos. Every unary method is registered;
// the ones the emulator does not implement answer UNIMPLEMENTED (and are logged and subject
// to faults like the others).
import * as grpc from "@grpc/grpc-js";
import type protobuf from "protobufjs";
import { ApiError } from "./errors.js";
import { type JsonObject, jsonToMessage, messageToJson } from "./json.js";
import type { Protos } from "./protos.js";
import type { JobService } from "./service.js";

function definitionFor(
  service: protobuf.Service,
  handler: (method: string, request: JsonObject) => Promise<JsonObject>,
): {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
} {
  const definition: Record<string, grpc.MethodDefinition<JsonObject, JsonObject>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  const serviceName = service.fullName.replace(/^\./, "");
  for (const method of service.methodsArray) {
    method.resolve();
    if (method.requestStream || method.responseStream) continue;
    const requestType = method.resolvedRequestType;
    const responseType = method.resolvedResponseType;
    if (!requestType || !responseType) continue;
    definition[method.name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: JsonObject) =>
        Buffer.from(requestType.encode(jsonToMessage(requestType, value)).finish()),
      requestDeserialize: (bytes: Buffer) =>
        messageToJson(requestType, requestType.decode(bytes)) as JsonObject,
      responseSerialize: (value: JsonObject) =>
        Buffer.from(responseType.encode(jsonToMessage(responseType, value)).finish()),
      responseDeserialize: (bytes: Buffer) =>
        messageToJson(responseType, responseType.decode(bytes)) as JsonObject,
      originalName: method.name,
    };
    const unary: grpc.handleUnaryCall<JsonObject, JsonObject> = (call, callback) => {
      handler(method.name, call.request).then(
        (response) => callback(null, response),
        (err: unknown) => {
          const e = err instanceof ApiError ? err : new ApiError("INTERNAL", String(err));
          callback({ code: e.code, details: e.message, metadata: new grpc.Metadata() });
        },
      );
    };
    implementation[method.name] = unary as grpc.UntypedHandleCall;
  }
  return { definition, implementation };
}

export interface GrpcFrontEnd {
  port: number;
  close(): Promise<void>;
}

export async function startGrpc(
  protos: Protos,
  service: JobService,
  host: string,
  port: number,
): Promise<GrpcFrontEnd> {
  const server = new grpc.Server();
  for (const svc of [protos.jobService, protos.operations]) {
    const { definition, implementation } = definitionFor(svc, (method, request) =>
      service.invoke(method, "grpc", request),
    );
    server.addService(definition, implementation);
  }
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      }),
  };
}
