// The request as proto3 JSON (camelCase, enum names, Durations as "3600s", int64 as
// strings), for `vertex-dispatch render` and the docs. It goes through the protos shipped
// in @google-cloud/aiplatform, so what it prints is what the client would send. Loading
// those protos (4 MB) costs a few hundred ms: it happens on first use, never at import,
// and the dispatch path never calls this.
import { createRequire } from "node:module";
import { toProto3JSON } from "proto3-json-serializer";
import type * as protobuf from "protobufjs";

const require = createRequire(import.meta.url);
const REQUEST_TYPE = "google.cloud.aiplatform.v1.CreateCustomJobRequest";

let requestType: protobuf.Type | undefined;

/** The CreateCustomJobRequest type from the aiplatform package's own protos.json (loaded once). */
export function createCustomJobRequestType(): protobuf.Type {
  if (!requestType) {
    const pb = require("protobufjs") as typeof protobuf;
    const json =
      require("@google-cloud/aiplatform/build/protos/protos.json") as protobuf.INamespace;
    requestType = pb.Root.fromJSON(json).lookupType(REQUEST_TYPE);
  }
  return requestType;
}

export function toProto3Json(request: { parent: string; customJob: Record<string, unknown> }): {
  parent: string;
  customJob: unknown;
} {
  const type = createCustomJobRequestType();
  const message = type.fromObject(request);
  const json = toProto3JSON(message) as { parent: string; customJob: Record<string, unknown> };
  const customJob = json.customJob;
  // An output-only map the serializer prints empty; it is not part of the request.
  const web = customJob.webAccessUris;
  if (web !== null && typeof web === "object" && Object.keys(web).length === 0)
    delete customJob.webAccessUris;
  return { parent: json.parent, customJob };
}
