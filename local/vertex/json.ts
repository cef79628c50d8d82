// Proto3 JSON mapping, driven by the protobufjs reflection of the shipped protos.
//
// The emulator keeps every resource in its canonical proto3 JSON form (camelCase keys, enum
// names, Timestamps as RFC 3339 strings, Durations as "Ns", int64 as strings, default values
// omitted). REST bodies are parsed with `parseJson`; gRPC messages are decoded and turned into
// the same form with `messageToJson`, and answers are encoded with `jsonToMessage`.
// Parse errors use the wording of Google's REST front end ("Invalid JSON payload received.
// Unknown name ..." and "Invalid value at ...").
import protobuf from "protobufjs";
import { ApiError } from "./errors.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const INT64 = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);
const INT32 = new Set(["int32", "uint32", "sint32", "fixed32", "sfixed32"]);
const WRAPPERS = new Set([
  ".google.protobuf.DoubleValue",
  ".google.protobuf.FloatValue",
  ".google.protobuf.Int64Value",
  ".google.protobuf.UInt64Value",
  ".google.protobuf.Int32Value",
  ".google.protobuf.UInt32Value",
  ".google.protobuf.BoolValue",
  ".google.protobuf.StringValue",
  ".google.protobuf.BytesValue",
]);

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

// ---------------------------------------------------------------------------------------------
// Timestamps and Durations

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp into seconds and nanos; null when malformed. */
export function parseTimestamp(text: string): { seconds: number; nanos: number } | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const fraction = m[7] ?? "";
  const base = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8]}`);
  if (Number.isNaN(base)) return null;
  return { seconds: Math.floor(base / 1000), nanos: Number(fraction.padEnd(9, "0")) };
}

export function formatTimestamp(seconds: number, nanos: number): string {
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (nanos === 0) return `${iso}Z`;
  let fraction = String(nanos).padStart(9, "0");
  if (fraction.endsWith("000000")) fraction = fraction.slice(0, 3);
  else if (fraction.endsWith("000")) fraction = fraction.slice(0, 6);
  return `${iso}.${fraction}Z`;
}

/** Parses a proto3 JSON Duration ("3600s", "1.5s", "-2s"); null when malformed. */
export function parseDuration(text: string): { seconds: number; nanos: number } | null {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (!m) return null;
  const sign = m[1] ? -1 : 1;
  return { seconds: sign * Number(m[2]), nanos: sign * Number((m[3] ?? "").padEnd(9, "0")) };
}

export function formatDuration(seconds: number, nanos: number): string {
  if (nanos === 0) return `${seconds}s`;
  const negative = seconds < 0 || nanos < 0;
  let fraction = String(Math.abs(nanos)).padStart(9, "0");
  if (fraction.endsWith("000000")) fraction = fraction.slice(0, 3);
  else if (fraction.endsWith("000")) fraction = fraction.slice(0, 6);
  return `${negative ? "-" : ""}${Math.abs(seconds)}.${fraction}s`;
}

// ---------------------------------------------------------------------------------------------
// JSON -> protobufjs plain object (for type.fromObject), validating as Google's front end does

function invalidValue(path: string, typeName: string, value: unknown): ApiError {
  const shown = typeof value === "string" ? `"${value}"` : JSON.stringify(value);
  return new ApiError("INVALID_ARGUMENT", `Invalid value at '${path}' (${typeName}), ${shown}`);
}

function typeUrl(fullName: string): string {
  return `type.googleapis.com/${fullName.replace(/^\./, "")}`;
}

function scalarFromJson(field: protobuf.Field, value: Json, path: string): unknown {
  const t = field.type;
  if (t === "string") {
    if (typeof value !== "string") throw invalidValue(path, "TYPE_STRING", value);
    return value;
  }
  if (t === "bool") {
    if (typeof value !== "boolean") throw invalidValue(path, "TYPE_BOOL", value);
    return value;
  }
  if (t === "bytes") {
    if (typeof value !== "string") throw invalidValue(path, "TYPE_BYTES", value);
    return Buffer.from(value, "base64");
  }
  if (INT64.has(t) || INT32.has(t)) {
    const text = typeof value === "number" ? String(value) : value;
    if (typeof text !== "string" || !/^-?\d+$/.test(text)) {
      throw invalidValue(path, INT64.has(t) ? "TYPE_INT64" : "TYPE_INT32", value);
    }
    if (INT32.has(t)) {
      const n = Number(text);
      if (n > 2147483647 || n < -2147483648) throw invalidValue(path, "TYPE_INT32", value);
      return n;
    }
    return text;
  }
  if (t === "double" || t === "float") {
    if (typeof value === "number") return value;
    if (value === "NaN" || value === "Infinity" || value === "-Infinity") return Number(value);
    if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) {
      return Number(value);
    }
    throw invalidValue(path, t === "double" ? "TYPE_DOUBLE" : "TYPE_FLOAT", value);
  }
  throw invalidValue(path, t, value);
}

function enumFromJson(e: protobuf.Enum, value: Json, path: string): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && Object.hasOwn(e.values, value)) {
    return e.values[value] as number;
  }
  throw invalidValue(path, typeUrl(e.fullName), value);
}

function valueFromJson(value: Json): JsonObject {
  if (value === null) return { nullValue: 0 };
  if (typeof value === "number") return { numberValue: value };
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(valueFromJson) } };
  return { structValue: structFromJson(value) };
}

function structFromJson(value: JsonObject): JsonObject {
  const fields: JsonObject = {};
  for (const [k, v] of Object.entries(value)) fields[k] = valueFromJson(v);
  return { fields };
}

function messageFromJson(type: protobuf.Type, value: Json, path: string): unknown {
  const name = type.fullName;
  if (name === ".google.protobuf.Timestamp") {
    const ts = typeof value === "string" ? parseTimestamp(value) : null;
    if (!ts) throw invalidValue(path, "type.googleapis.com/google.protobuf.Timestamp", value);
    return ts;
  }
  if (name === ".google.protobuf.Duration") {
    const d = typeof value === "string" ? parseDuration(value) : null;
    if (!d) throw invalidValue(path, "type.googleapis.com/google.protobuf.Duration", value);
    return d;
  }
  if (name === ".google.protobuf.FieldMask") {
    if (typeof value !== "string") throw invalidValue(path, typeUrl(name), value);
    return { paths: value === "" ? [] : value.split(",").map(snakeCase) };
  }
  if (name === ".google.protobuf.Struct") {
    if (!isObject(value)) throw invalidValue(path, typeUrl(name), value);
    return structFromJson(value);
  }
  if (name === ".google.protobuf.Value") return valueFromJson(value);
  if (name === ".google.protobuf.ListValue") {
    if (!Array.isArray(value)) throw invalidValue(path, typeUrl(name), value);
    return { values: value.map(valueFromJson) };
  }
  if (WRAPPERS.has(name)) {
    const inner = type.fields.value;
    if (!inner) throw invalidValue(path, typeUrl(name), value);
    return { value: scalarFromJson(inner, value, path) };
  }
  if (name === ".google.protobuf.Any") {
    if (!isObject(value) || typeof value["@type"] !== "string") {
      throw invalidValue(path, typeUrl(name), value);
    }
    const url = value["@type"];
    const inner = type.root.lookupType(url.slice(url.lastIndexOf("/") + 1));
    const special = inner.fullName.startsWith(".google.protobuf.") && "value" in value;
    const { "@type": _ignored, ...rest } = value;
    const body = special ? (value.value as Json) : rest;
    const message = inner.fromObject(messageFromJson(inner, body, path) as object);
    // protobufjs's built-in any.proto keeps the field name type_url
    return { type_url: url, typeUrl: url, value: inner.encode(message).finish() };
  }
  if (!isObject(value)) throw invalidValue(path, typeUrl(name), value);
  return objectFromJson(type, value, path);
}

function fieldByJsonName(type: protobuf.Type, key: string): protobuf.Field | undefined {
  const direct = type.fields[key];
  if (direct) return direct;
  const camel = key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return type.fields[camel];
}

function oneValue(field: protobuf.Field, value: Json, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) return enumFromJson(resolved, value, path);
  if (resolved instanceof protobuf.Type) return messageFromJson(resolved, value, path);
  return scalarFromJson(field, value, path);
}

function objectFromJson(type: protobuf.Type, json: JsonObject, path: string): JsonObject {
  const out: { [key: string]: unknown } = {};
  const oneofs = new Map<string, string>();
  for (const [key, value] of Object.entries(json)) {
    const field = fieldByJsonName(type, key);
    if (!field) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Invalid JSON payload received. Unknown name "${key}"${path ? ` at '${path}'` : ""}: Cannot find field.`,
      );
    }
    if (value === null && field.resolvedType?.fullName !== ".google.protobuf.Value") continue;
    const oneof = field.partOf;
    if (oneof && !oneof.name.startsWith("_")) {
      if (oneofs.has(oneof.name)) {
        throw new ApiError(
          "INVALID_ARGUMENT",
          `Invalid JSON payload received. Oneof field '${snakeCase(oneof.name)}' is already set. Cannot set '${key}'`,
        );
      }
      oneofs.set(oneof.name, key);
    }
    const fieldPath = path ? `${path}.${snakeCase(field.name)}` : snakeCase(field.name);
    if (field.map) {
      if (!isObject(value)) throw invalidValue(fieldPath, "map", value);
      const map: { [k: string]: unknown } = {};
      for (const [k, v] of Object.entries(value)) {
        map[k] = oneValue(field, v, `${fieldPath}[${k}]`);
      }
      out[field.name] = map;
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw invalidValue(fieldPath, "list", value);
      out[field.name] = value.map((v, i) => oneValue(field, v, `${fieldPath}[${i}]`));
    } else {
      out[field.name] = oneValue(field, value, fieldPath);
    }
  }
  return out as JsonObject;
}

/** Parses a JSON request body into a protobufjs message of `type`; throws INVALID_ARGUMENT. */
export function jsonToMessage(type: protobuf.Type, json: Json, path = ""): protobuf.Message {
  if (!isObject(json)) throw invalidValue(path || type.name, typeUrl(type.fullName), json);
  return type.fromObject(messageFromJson(type, json, path) as object);
}

// ---------------------------------------------------------------------------------------------
// protobufjs message -> canonical JSON

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: false,
};

function num(value: unknown): number {
  return typeof value === "number" ? value : Number(value ?? 0);
}

function valueToJson(v: JsonObject): Json {
  if ("nullValue" in v) return null;
  if ("numberValue" in v) return v.numberValue as number;
  if ("stringValue" in v) return v.stringValue as string;
  if ("boolValue" in v) return v.boolValue as boolean;
  if ("listValue" in v) {
    const list = v.listValue as JsonObject;
    return ((list.values as JsonObject[] | undefined) ?? []).map(valueToJson);
  }
  if ("structValue" in v) return structToJson(v.structValue as JsonObject);
  return null;
}

function structToJson(s: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries((s.fields as JsonObject | undefined) ?? {})) {
    out[k] = valueToJson(v as JsonObject);
  }
  return out;
}

function isDefault(value: unknown): boolean {
  return (
    value === "" ||
    value === 0 ||
    value === false ||
    value === "0" ||
    (Array.isArray(value) && value.length === 0)
  );
}

function messageObjectToJson(type: protobuf.Type, obj: JsonObject): Json {
  const name = type.fullName;
  if (name === ".google.protobuf.Timestamp")
    return formatTimestamp(num(obj.seconds), num(obj.nanos));
  if (name === ".google.protobuf.Duration") return formatDuration(num(obj.seconds), num(obj.nanos));
  if (name === ".google.protobuf.FieldMask") {
    return ((obj.paths as string[] | undefined) ?? [])
      .map((p) => p.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()))
      .join(",");
  }
  if (name === ".google.protobuf.Struct") return structToJson(obj);
  if (name === ".google.protobuf.Value") return valueToJson(obj);
  if (name === ".google.protobuf.ListValue") {
    return ((obj.values as JsonObject[] | undefined) ?? []).map(valueToJson);
  }
  if (WRAPPERS.has(name)) return (obj.value as Json) ?? null;
  if (name === ".google.protobuf.Any") {
    const url = String(obj.type_url ?? obj.typeUrl ?? "");
    const inner = type.root.lookupType(url.slice(url.lastIndexOf("/") + 1));
    const bytes = Buffer.from(String(obj.value ?? ""), "base64");
    const body = messageToJson(inner, inner.decode(bytes));
    if (inner.fullName.startsWith(".google.protobuf.") && !isObject(body)) {
      return { "@type": url, value: body };
    }
    return { "@type": url, ...(body as JsonObject) };
  }
  const out: JsonObject = {};
  for (const field of type.fieldsArray) {
    const value = obj[field.name];
    if (value === undefined || value === null) continue;
    const resolved = field.resolvedType;
    const convert = (v: Json): Json =>
      resolved instanceof protobuf.Type ? messageObjectToJson(resolved, v as JsonObject) : v;
    if (field.map) {
      const map: JsonObject = {};
      for (const [k, v] of Object.entries(value as JsonObject)) map[k] = convert(v);
      if (Object.keys(map).length > 0) out[field.name] = map;
    } else if (field.repeated) {
      const list = (value as Json[]).map(convert);
      if (list.length > 0) out[field.name] = list;
    } else if (resolved instanceof protobuf.Type) {
      out[field.name] = convert(value);
    } else if (!isDefault(value) || field.partOf) {
      out[field.name] = value;
    }
  }
  return out;
}

/** Turns a protobufjs message of `type` into canonical proto3 JSON. */
export function messageToJson(type: protobuf.Type, message: protobuf.Message | object): Json {
  const obj = type.toObject(message as protobuf.Message, TO_OBJECT) as JsonObject;
  return messageObjectToJson(type, obj);
}

/** Round-trips JSON through the type: validates it and returns the canonical form. */
export function canonicalJson(type: protobuf.Type, json: Json, path = ""): JsonObject {
  return messageToJson(type, jsonToMessage(type, json, path)) as JsonObject;
}
