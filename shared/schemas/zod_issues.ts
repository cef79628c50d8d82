// Turns zod's issues into the product's `Issue`s (path + a message that says how to fix),
// and walks a zod schema alongside data (for unknown-key checks and for knowing whether a
// field is numeric when a template variable fills it).
import { z } from "zod";
import { formatPath, type Issue } from "../errors.js";
import { unknownKeyMessage, unknownValueMessage } from "../resolve/keys.js";

type AnySchema = z.ZodType;
type Segment = string | number;

/**
 * Refinement option: run the refinement even when other fields already failed (zod skips
 * it by default), as long as the value is an object, so that every problem is reported.
 */
export const evenWithOtherIssues = {
  when: (payload: { value: unknown }): boolean =>
    payload.value !== null && typeof payload.value === "object" && !Array.isArray(payload.value),
};

/** Strips the wrappers that do not change what a value looks like (optional, default, pipe...). */
export function unwrapSchema(schema: AnySchema): AnySchema {
  let s: AnySchema = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) {
      s = s.unwrap() as AnySchema;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as AnySchema;
    } else {
      return s;
    }
  }
}

/** The schema of the child `segment` of `schema`, if it has one. */
export function childSchema(schema: AnySchema, segment: Segment): AnySchema | undefined {
  const s = unwrapSchema(schema);
  if (s instanceof z.ZodObject) {
    return typeof segment === "string" ? (s.shape[segment] as AnySchema | undefined) : undefined;
  }
  if (s instanceof z.ZodArray)
    return typeof segment === "number" ? (s.element as AnySchema) : undefined;
  if (s instanceof z.ZodRecord) return s.valueType as AnySchema;
  if (s instanceof z.ZodUnion) {
    for (const option of s.options as readonly AnySchema[]) {
      const child = childSchema(option, segment);
      if (child) return child;
    }
  }
  return undefined;
}

/** The schema at `path` below `schema`. */
export function schemaAt(schema: AnySchema, path: readonly Segment[]): AnySchema | undefined {
  let s: AnySchema | undefined = schema;
  for (const segment of path) {
    if (!s) return undefined;
    s = childSchema(s, segment);
  }
  return s;
}

/** The keys an object schema allows, or undefined when the schema is not an object. */
export function knownKeys(schema: AnySchema): string[] | undefined {
  const s = unwrapSchema(schema);
  if (s instanceof z.ZodObject) return Object.keys(s.shape);
  if (s instanceof z.ZodUnion) {
    const keys = (s.options as readonly AnySchema[]).flatMap((o) => knownKeys(o) ?? []);
    return keys.length > 0 ? [...new Set(keys)] : undefined;
  }
  return undefined;
}

const placeholders = new WeakSet<AnySchema>();

/**
 * Marks a union option as a placeholder (the empty worker pool `{}`): when no option
 * matches, the issues of the other, real option are the ones reported.
 */
export function markPlaceholder<S extends AnySchema>(schema: S): S {
  placeholders.add(schema);
  return schema;
}

/**
 * A union of a placeholder and one real shape fails as "invalid_union"; the person
 * meant the real shape, so its issues are reported (with full paths) instead.
 */
function unionIssues(iss: z.core.$ZodIssue, schema: AnySchema): z.core.$ZodIssue[] {
  if (iss.code !== "invalid_union") return [iss];
  const path = iss.path.filter((p): p is Segment => typeof p !== "symbol");
  const union = schemaAt(schema, path);
  const options =
    union && unwrapSchema(union) instanceof z.ZodUnion
      ? ((unwrapSchema(union) as z.ZodUnion).options as readonly AnySchema[])
      : [];
  const real = iss.errors.filter((_, i) => !placeholders.has(options[i] as AnySchema));
  if (options.length === 0 || real.length !== 1) return [iss];
  return (real[0] ?? []).flatMap((inner) =>
    unionIssues({ ...inner, path: [...iss.path, ...inner.path] }, schema),
  );
}

/** What kind of scalar a field holds: decides how a whole `{{var}}` is substituted. */
export function scalarKind(
  schema: AnySchema | undefined,
): "number" | "string" | "boolean" | "other" {
  if (!schema) return "other";
  const s = unwrapSchema(schema);
  if (s instanceof z.ZodNumber) return "number";
  if (s instanceof z.ZodString || s instanceof z.ZodEnum) return "string";
  if (s instanceof z.ZodBoolean) return "boolean";
  return "other";
}

/**
 * Unknown keys in `data` compared with `schema`, recursively, each with its path. Used on
 * partial inputs (resource_args overrides) where nothing else is required.
 */
export function unknownKeyIssues(schema: AnySchema, data: unknown, path: Segment[]): Issue[] {
  const issues: Issue[] = [];
  const s = unwrapSchema(schema);
  if (Array.isArray(data)) {
    data.forEach((item, i) => {
      const child = childSchema(s, i);
      if (child) issues.push(...unknownKeyIssues(child, item, [...path, i]));
    });
  } else if (data !== null && typeof data === "object") {
    const known = knownKeys(s);
    for (const [key, value] of Object.entries(data)) {
      if (known && !known.includes(key)) {
        issues.push({
          path: formatPath([...path, key]),
          message: unknownKeyMessage(key, known, { nested: path.length > 0 }),
        });
        continue;
      }
      const child = childSchema(s, key);
      if (child) issues.push(...unknownKeyIssues(child, value, [...path, key]));
    }
  }
  return issues;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  object: "an object (a mapping of keys to values)",
  record: "an object (a mapping of keys to values)",
};

/** Per-parse error map: zod's issues, worded for a person fixing a YAML file. */
export function errorMap(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case "invalid_type": {
      const expected = EXPECTED[iss.expected] ?? iss.expected;
      if (iss.input === undefined) return `required: expected ${expected}`;
      return `expected ${expected}, got ${describe(iss.input)}`;
    }
    case "too_small": {
      const min = Number(iss.minimum);
      if (iss.origin === "array") return `must have at least ${min} item${min === 1 ? "" : "s"}`;
      if (iss.origin === "string")
        return min <= 1 ? "must not be empty" : `must be at least ${min} characters long`;
      return `must be ${iss.inclusive === false ? "greater than" : "at least"} ${min}, got ${String(iss.input)}`;
    }
    case "too_big": {
      const max = Number(iss.maximum);
      if (iss.origin === "array") return `must have at most ${max} items`;
      if (iss.origin === "string") return `must be at most ${max} characters long`;
      return `must be ${iss.inclusive === false ? "less than" : "at most"} ${max}, got ${String(iss.input)}`;
    }
    case "invalid_value": {
      const allowed = iss.values.map((v) => String(v));
      if (iss.input === undefined) return `required: expected one of ${allowed.join(", ")}`;
      if (typeof iss.input === "string") return unknownValueMessage("value", iss.input, allowed);
      return `expected one of ${allowed.join(", ")}, got ${describe(iss.input)}`;
    }
    case "not_multiple_of":
      return `must be a multiple of ${String(iss.divisor)}`;
    default:
      return undefined;
  }
}

/**
 * Converts a zod error into Issues: unrecognized keys become one issue per key with
 * did-you-mean hints (computed from the schema at the issue's path), paths are formatted
 * and prefixed with `prefix`.
 */
export function toIssues(
  error: z.ZodError,
  schema: AnySchema,
  prefix: Segment[] = [],
  keep: (iss: z.core.$ZodIssue) => boolean = () => true,
): Issue[] {
  const out: Issue[] = [];
  for (const iss of error.issues.flatMap((i) => unionIssues(i, schema))) {
    if (!keep(iss)) continue;
    const path = iss.path.filter((p): p is Segment => typeof p !== "symbol");
    if (iss.code === "unrecognized_keys") {
      const known = knownKeys(schemaAt(schema, path) ?? schema) ?? [];
      for (const key of iss.keys) {
        out.push({
          path: formatPath([...prefix, ...path, key]),
          message: unknownKeyMessage(key, known, { nested: prefix.length + path.length > 0 }),
        });
      }
    } else if (iss.code === "invalid_key") {
      out.push({
        path: formatPath([...prefix, ...path]),
        message: `invalid key: ${iss.issues.map((i) => i.message).join("; ")}`,
      });
    } else {
      out.push({ path: formatPath([...prefix, ...path]), message: iss.message });
    }
  }
  return out;
}

/** Parses with the product's error map; returns the data or the issues (those `keep` accepts). */
export function safeParseWithIssues<S extends AnySchema>(
  schema: S,
  data: unknown,
  prefix: Segment[] = [],
  keep?: (iss: z.core.$ZodIssue) => boolean,
): { ok: true; data: z.output<S> } | { ok: false; issues: Issue[] } {
  const result = schema.safeParse(data, { error: errorMap });
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, issues: toIssues(result.error, schema, prefix, keep) };
}
