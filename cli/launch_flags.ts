// A launch message built from flags, as `wandb launch` builds one: --entity, --wandb-project,
// --image, --entry-point, --arg..., --config k=v..., --var name=value..., --env NAME=VALUE...,
// --run-id, --name, --job, --priority, over an optional --message FILE. The schema check
// is the dispatcher's (shared/precheck.ts); this file only maps flags to fields and
// reports a flag it cannot read, naming the flag.
import { readFile } from "node:fs/promises";
import { DispatchError } from "../shared/errors.js";
import { type FlagValues, list, str } from "./args.js";

type Obj = Record<string, unknown>;

function bad(flag: string, value: string, expected: string): DispatchError {
  return new DispatchError("usage", `--${flag} ${JSON.stringify(value)}: expected ${expected}`, {
    issues: [{ path: `--${flag}`, message: `expected ${expected}` }],
  });
}

/** `k=v` pairs; `json` parses each value as JSON when it is valid JSON (else a string). */
function pairs(flag: string, values: string[], parse: (v: string) => unknown): Obj | undefined {
  if (values.length === 0) return undefined;
  const out: Obj = {};
  for (const item of values) {
    const i = item.indexOf("=");
    if (i <= 0) throw bad(flag, item, `KEY=VALUE, e.g. --${flag} lr=0.01`);
    out[item.slice(0, i)] = parse(item.slice(i + 1));
  }
  return out;
}

const jsonOrString = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};
const numberOrString = (v: string): unknown => (/^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v);

function entryPoint(value: string): string[] {
  if (value.trim().startsWith("[")) {
    const parsed = jsonOrString(value);
    if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === "string")) {
      throw bad(
        "entry-point",
        value,
        'a command or a JSON array of strings, e.g. ["python","train.py"]',
      );
    }
    return parsed as string[];
  }
  return value.split(/\s+/).filter(Boolean);
}

async function messageFile(path: string): Promise<Obj> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new DispatchError(
      "usage",
      `cannot read the message file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new DispatchError(
      "invalid_message",
      `the message file ${path} is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new DispatchError("invalid_message", `the message file ${path} must hold a JSON object`);
  }
  return data as Obj;
}

/** The launch message of `submit`'s flags (flags win over the file's fields). */
export async function launchFromFlags(values: FlagValues, queue: string): Promise<Obj> {
  const file = str(values, "message");
  const base: Obj = file ? await messageFile(file) : {};
  const priority = str(values, "priority");
  const set: Obj = {
    entity: str(values, "entity"),
    project: str(values, "wandb-project"),
    image_uri: str(values, "image"),
    entry_point: str(values, "entry-point")
      ? entryPoint(str(values, "entry-point") ?? "")
      : undefined,
    args: list(values, "arg").length > 0 ? list(values, "arg") : undefined,
    run_config: pairs("config", list(values, "config"), jsonOrString),
    template_variables: pairs("var", list(values, "var"), numberOrString),
    env: pairs("env", list(values, "env"), (v) => v),
    run_id: str(values, "run-id"),
    name: str(values, "name"),
    job: str(values, "job"),
    priority: priority === undefined ? undefined : numberOrString(priority),
  };
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(set)) {
    if (v === undefined) continue;
    const prev = out[k];
    // Maps merge key by key over the file's (a --config key overrides that key only).
    out[k] =
      prev &&
      typeof prev === "object" &&
      !Array.isArray(prev) &&
      typeof v === "object" &&
      !Array.isArray(v)
        ? { ...(prev as Obj), ...(v as Obj) }
        : v;
  }
  out.queue = queue;
  return out;
}
