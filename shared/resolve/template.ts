// W&B template variables (SPEC §3): definitions on the queue, values from the message,
// `{{name}}` references in the strings of spec/run. A string that is exactly `{{name}}`
// takes the typed value where the field is numeric and its text where the field is a
// string; inside a longer string the value is interpolated.

import type { z } from "zod";
import type { Issue } from "../errors.js";
import { formatPath } from "../errors.js";
import type { TemplateVariable } from "../schemas/queue_config.js";
import { childSchema, scalarKind } from "../schemas/zod_issues.js";
import { didYouMean } from "./keys.js";

/** A `{{name}}` reference anywhere in a string (spaces inside the braces tolerated). */
export const TEMPLATE_REF_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g;
/** A string that is exactly one reference. */
const WHOLE_REF_RE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}$/;

export type TemplateValue = string | number;

/** The names referenced in a string. */
export function templateRefs(text: string): string[] {
  return [...text.matchAll(TEMPLATE_REF_RE)].map((m) => m[1] ?? "");
}

function typeName(def: TemplateVariable): string {
  return def.schema.type === "integer"
    ? "an integer"
    : def.schema.type === "number"
      ? "a number"
      : "a string";
}

/** Checks one value against its definition's schema; returns the problem or undefined. Coerces numeric strings. */
export function checkTemplateValue(
  name: string,
  def: TemplateVariable,
  raw: TemplateValue,
): { value: TemplateValue } | { problem: string } {
  const { schema } = def;
  let value: TemplateValue = raw;
  if (schema.type !== "string" && typeof raw === "string") {
    const n = raw.trim() === "" ? Number.NaN : Number(raw);
    if (!Number.isFinite(n)) {
      return {
        problem: `template variable "${name}" must be ${typeName(def)}, got the string ${JSON.stringify(raw)}`,
      };
    }
    value = n;
  }
  if (schema.type === "string" && typeof value !== "string") {
    return { problem: `template variable "${name}" must be a string, got the number ${value}` };
  }
  if (schema.type === "integer" && !Number.isInteger(value)) {
    return { problem: `template variable "${name}" must be an integer, got ${value}` };
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) {
      return {
        problem: `template variable "${name}" must be at least ${schema.minimum}, got ${value}`,
      };
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      return {
        problem: `template variable "${name}" must be at most ${schema.maximum}, got ${value}`,
      };
    }
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => e === value)) {
    return {
      problem: `template variable "${name}" must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(value)}`,
    };
  }
  return { value };
}

/**
 * The value of every defined variable: the message's, else the default. Issues (with
 * paths in the message) for unknown names, missing values and values outside the schema.
 */
export function templateValues(
  defs: Record<string, TemplateVariable>,
  given: Record<string, TemplateValue> | undefined,
  valuePrefix: string[] = ["template_variables"],
): { context: TemplateContext; issues: Issue[] } {
  const values = new Map<string, TemplateValue>();
  const invalid = new Set<string>();
  const issues: Issue[] = [];
  const names = Object.keys(defs);
  for (const name of Object.keys(given ?? {})) {
    if (!Object.hasOwn(defs, name)) {
      const hint = didYouMean(name, names);
      issues.push({
        path: formatPath([...valuePrefix, name]),
        message: `the queue defines no template variable "${name}"${hint ? `: did you mean "${hint}"?` : names.length ? ` (it defines: ${names.join(", ")})` : " (it defines none)"}`,
      });
    }
  }
  for (const [name, def] of Object.entries(defs)) {
    const raw = given?.[name] ?? def.default;
    if (raw === undefined) continue; // reported only where it is referenced
    const checked = checkTemplateValue(name, def, raw);
    if ("problem" in checked) {
      invalid.add(name);
      issues.push({ path: formatPath([...valuePrefix, name]), message: checked.problem });
    } else {
      values.set(name, checked.value);
    }
  }
  return {
    context: {
      defs,
      values,
      invalid,
      valuePrefix,
      reported: new Set(),
      unresolved: new Set(),
      filled: new Map(),
    },
    issues,
  };
}

/** Everything substitution needs: the definitions, the values, and the names whose value was rejected. */
export interface TemplateContext {
  defs: Record<string, TemplateVariable>;
  values: Map<string, TemplateValue>;
  /** Names whose value failed its schema (already reported; not reported again where used). */
  invalid: Set<string>;
  /** Where values come from, for issue paths (e.g. ["message", "template_variables"]). */
  valuePrefix: string[];
  /** Names already reported as missing (each is reported once). */
  reported: Set<string>;
  /** Config paths left with an unresolved reference (already reported; validation skips them). */
  unresolved: Set<string>;
  /** Config paths whose value a variable filled (whole or interpolated) → the variables' names. */
  filled: Map<string, string[]>;
}

/** " (from template variable x)" for an issue at a path a variable filled, else "". */
export function templateNote(ctx: TemplateContext, path: string): string {
  const names = ctx.filled.get(path);
  if (!names?.length) return "";
  return ` (from template variable${names.length > 1 ? "s" : ""} ${names.join(", ")})`;
}

/**
 * Substitutes template references in every string of `data`, walking alongside `schema`
 * to know which fields are numeric. Issues carry the config path of the reference.
 */
export function substituteTemplates(
  data: unknown,
  schema: z.ZodType | undefined,
  path: (string | number)[],
  ctx: TemplateContext,
  issues: Issue[],
): unknown {
  if (typeof data === "string") {
    return data.includes("{{") ? substituteString(data, schema, path, ctx, issues) : data;
  }
  if (Array.isArray(data)) {
    return data.map((item, i) =>
      substituteTemplates(item, schema && childSchema(schema, i), [...path, i], ctx, issues),
    );
  }
  if (data !== null && typeof data === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data)) {
      const child = schema && childSchema(schema, key);
      out[key] = substituteTemplates(value, child, [...path, key], ctx, issues);
    }
    return out;
  }
  return data;
}

/** Reports a reference without a value once (an unknown name at each use); marks the path unresolved. */
function reportMissing(name: string, where: string, ctx: TemplateContext, issues: Issue[]): void {
  ctx.unresolved.add(where);
  if (!Object.hasOwn(ctx.defs, name)) {
    const hint = didYouMean(name, Object.keys(ctx.defs));
    issues.push({
      path: where,
      message: `unknown template variable "${name}"${hint ? `: did you mean "${hint}"?` : ""}; define it under template_variables`,
    });
  } else if (!ctx.invalid.has(name) && !ctx.reported.has(name)) {
    ctx.reported.add(name);
    issues.push({
      path: formatPath([...ctx.valuePrefix, name]),
      message: `template variable "${name}" has no value (used at ${where}): set template_variables.${name} in the launch message, or give it a default in the queue config`,
    });
  }
}

/** A string that is exactly one reference takes the typed value in a numeric field; else it is interpolated. */
function substituteString(
  data: string,
  schema: z.ZodType | undefined,
  path: (string | number)[],
  ctx: TemplateContext,
  issues: Issue[],
): unknown {
  const where = formatPath(path);
  const whole = WHOLE_REF_RE.exec(data);
  if (whole) return substituteWhole(data, whole[1] ?? "", schema, where, ctx, issues);
  const used: string[] = [];
  const out = data.replace(TEMPLATE_REF_RE, (ref, name: string) => {
    const value = ctx.values.get(name);
    if (value === undefined) {
      reportMissing(name, where, ctx, issues);
      return ref;
    }
    if (!used.includes(name)) used.push(name);
    return String(value);
  });
  if (used.length) ctx.filled.set(where, used);
  return out;
}

function substituteWhole(
  data: string,
  name: string,
  schema: z.ZodType | undefined,
  where: string,
  ctx: TemplateContext,
  issues: Issue[],
): unknown {
  const value = ctx.values.get(name);
  if (value === undefined) {
    reportMissing(name, where, ctx, issues);
    return data;
  }
  if (scalarKind(schema) === "number" && typeof value !== "number") {
    ctx.unresolved.add(where);
    issues.push({
      path: where,
      message: `template variable "${name}" is a string but this field needs a number; declare it with schema type integer or number`,
    });
    return data;
  }
  ctx.filled.set(where, [name]);
  return scalarKind(schema) === "number" ? value : String(value);
}
