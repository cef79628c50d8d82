// What W&B's server does to a runSpec when it is pushed to a queue: it fills the queue
// config's template variables ("{{name}}") from the push's templateVariableValues (else
// each variable's default), checks them against their schema, and merges the filled
// config under the runSpec's own resource_args for the queue's resource, which it sets.
// The popped runSpec is the stored result: the agent never sees the raw queue config.
import type { Queue, TemplateVariable } from "./store.js";

export class PushError extends Error {}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A merge where the launch's own values win; lists are replaced. */
export function mergeUnder(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeUnder(base[k], v);
  return out;
}

function checkValue(name: string, def: TemplateVariable, value: Json): void {
  const { type, minimum, maximum } = def.schema;
  const numeric = type === "number" || type === "integer";
  if (numeric && typeof value !== "number") {
    throw new PushError(
      `template variable ${name} must be a ${type}, got ${JSON.stringify(value)}`,
    );
  }
  if (type === "integer" && !Number.isInteger(value)) {
    throw new PushError(`template variable ${name} must be an integer`);
  }
  if (type === "string" && typeof value !== "string") {
    throw new PushError(`template variable ${name} must be a string`);
  }
  if (typeof value === "number" && minimum !== undefined && value < minimum) {
    throw new PushError(`template variable ${name} must be at least ${minimum}`);
  }
  if (typeof value === "number" && maximum !== undefined && value > maximum) {
    throw new PushError(`template variable ${name} must be at most ${maximum}`);
  }
  if (def.schema.enum && !def.schema.enum.includes(value)) {
    throw new PushError(
      `template variable ${name} must be one of ${JSON.stringify(def.schema.enum)}`,
    );
  }
}

function templateValues(queue: Queue, given: Record<string, Json>): Record<string, Json> {
  const values: Record<string, Json> = {};
  for (const name of Object.keys(given)) {
    if (!queue.templateVariables[name]) {
      throw new PushError(`queue ${queue.name} has no template variable ${name}`);
    }
  }
  for (const [name, def] of Object.entries(queue.templateVariables)) {
    const value = given[name] ?? def.default;
    if (value === undefined) {
      throw new PushError(`template variable ${name} of queue ${queue.name} needs a value`);
    }
    checkValue(name, def, value);
    values[name] = value;
  }
  return values;
}

function fill(value: Json, values: Record<string, Json>): Json {
  if (typeof value === "string") {
    const whole = /^\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}$/.exec(value);
    if (whole?.[1] && whole[1] in values) return values[whole[1]];
    return value.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g, (m, n: string) =>
      n in values ? String(values[n]) : m,
    );
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, values));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values)]));
  }
  return value;
}

/** The runSpec W&B stores for a push: the queue's filled config merged in. */
export function runSpecForPush(
  queue: Queue,
  runSpec: Record<string, Json>,
  templateValuesGiven: Record<string, Json>,
): Record<string, Json> {
  const resource = queue.resource ?? (runSpec.resource as string | undefined) ?? null;
  if (resource === null) return runSpec;
  const filled = fill(queue.config, templateValues(queue, templateValuesGiven));
  const own = isObject(runSpec.resource_args) ? runSpec.resource_args : {};
  return {
    ...runSpec,
    resource,
    resource_args: { ...own, [resource]: mergeUnder(filled, own[resource]) },
  };
}
