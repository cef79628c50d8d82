// The published JSON Schemas and the README's field tables, both generated from the zod
// schemas' own descriptions (the single source of truth). `npm run schemas` writes
// schemas/*.schema.json and rewrites the README between its `<!-- generated:NAME -->`
// markers; test/unit/schemas_generated.test.ts fails when either is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { LaunchRecordSchema } from "../shared/schemas/launch_record.js";
import { LaunchMessageSchema } from "../shared/schemas/message.js";
import {
  EmptyPoolSchema,
  QueueConfigSchema,
  RunSchema,
  SpecSchema,
} from "../shared/schemas/queue_config.js";
import { StatusEventSchema } from "../shared/schemas/status_event.js";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");

type Json = Record<string, unknown>;

/** A queue file as written: the dispatcher keys, with spec and run described field by field. */
const QueueFileSchema = QueueConfigSchema.extend({
  spec: SpecSchema.describe(QueueConfigSchema.shape.spec.description ?? ""),
  run: RunSchema.optional().describe(QueueConfigSchema.shape.run.description ?? ""),
});

/** `"{{name}}"`: a template reference, allowed in spec/run wherever a typed value goes. */
const TEMPLATE_REF = {
  type: "string",
  pattern: "\\{\\{\\s*[A-Za-z_][A-Za-z0-9_-]*\\s*\\}\\}",
  description: 'A template variable reference, "{{name}}", filled before the value is checked.',
};

/** In spec/run, a number, boolean, enum or patterned string may also be a template reference. */
function allowTemplateRef(schema: Json, path: readonly (string | number)[]): void {
  const inSections = path[0] === "properties" && (path[1] === "spec" || path[1] === "run");
  const typed =
    ["number", "integer", "boolean"].includes(schema.type as string) ||
    schema.enum !== undefined ||
    (schema.type === "string" && schema.pattern !== undefined);
  if (!inSections || !typed) return;
  const { description, default: fallback, ...rest } = schema;
  for (const key of Object.keys(schema)) delete schema[key];
  Object.assign(schema, description === undefined ? {} : { description });
  if (fallback !== undefined) schema.default = fallback;
  schema.anyOf = [rest, TEMPLATE_REF];
}

/** zod writes ±MAX_SAFE_INTEGER as the bounds of every int: noise for a reader. */
function dropSafeIntBounds(js: Json): void {
  if (js.maximum === Number.MAX_SAFE_INTEGER) delete js.maximum;
  if (js.minimum === Number.MIN_SAFE_INTEGER) delete js.minimum;
}

function generate(schema: z.ZodType, meta: { id: string; title: string }, io: "input" | "output") {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: (ctx) => {
      const js = ctx.jsonSchema as Json;
      dropSafeIntBounds(js);
      if (ctx.zodSchema === EmptyPoolSchema)
        Object.assign(js, { type: "object", maxProperties: 0 });
      else if (meta.id === "queue-config") allowTemplateRef(js, ctx.path);
    },
  }) as Json;
  const { $schema, ...rest } = json;
  return { $schema, $id: `${meta.id}.schema.json`, title: meta.title, ...rest };
}

export const SCHEMAS = [
  {
    id: "queue-config",
    title: "vertex-dispatch queue config (a W&B GCP Vertex queue)",
    schema: QueueFileSchema,
    io: "input",
  },
  {
    id: "launch-message",
    title: "vertex-dispatch launch message (topic launch-jobs)",
    schema: LaunchMessageSchema,
    io: "input",
  },
  {
    id: "status-event",
    title: "vertex-dispatch status event (topic launch-status)",
    schema: StatusEventSchema,
    io: "output",
  },
  {
    id: "launch-record",
    title: "vertex-dispatch launch record (state bucket)",
    schema: LaunchRecordSchema,
    io: "output",
  },
] as const;

/** File name under schemas/ → its text. */
export function jsonSchemaFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of SCHEMAS) {
    const json = generate(s.schema, s, s.io);
    out[`${s.id}.schema.json`] = `${JSON.stringify(json, null, 2)}\n`;
  }
  return out;
}

const MAX_INT = Number.MAX_SAFE_INTEGER;

function typeText(js: Json): string {
  if (Array.isArray(js.enum)) return js.enum.map((v) => `\`${JSON.stringify(v)}\``).join(" \\| ");
  if (Array.isArray(js.anyOf)) return (js.anyOf as Json[]).map(typeText).join(" \\| ");
  const type = Array.isArray(js.type) ? js.type.join(" \\| ") : String(js.type ?? "any");
  if (type === "array") return `${typeText((js.items as Json | undefined) ?? {})}[]`;
  if (type === "object" && js.additionalProperties && js.properties === undefined) {
    const value =
      js.additionalProperties === true ? "any" : typeText(js.additionalProperties as Json);
    return `map name → ${value}`;
  }
  const lo = js.minimum as number | undefined;
  const hi = js.maximum as number | undefined;
  if (
    (type === "integer" || type === "number") &&
    lo !== undefined &&
    hi !== undefined &&
    hi !== MAX_INT
  ) {
    return `${type} ${lo}–${hi}`;
  }
  return type;
}

/** A Markdown table of an object schema's fields: key, type, default, description. */
function fieldTable(
  schema: z.ZodType,
  io: "input" | "output",
  only?: (key: string) => boolean,
): string {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  const props = json.properties as Record<string, Json>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  const rows = Object.entries(props)
    .filter(([key]) => only?.(key) ?? true)
    .map(([key, p]) => {
      const fallback =
        p.default === undefined
          ? required.has(key)
            ? "**required**"
            : "—"
          : `\`${JSON.stringify(p.default)}\``;
      return `| \`${key}\` | ${typeText(p)} | ${fallback} | ${String(p.description ?? "").replaceAll("|", "\\|")} |`;
    });
  return ["| key | type | default | meaning |", "|---|---|---|---|", ...rows].join("\n");
}

/** Marker name → the Markdown between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`. */
export function readmeTables(): Record<string, string> {
  return {
    "launch-message-fields": fieldTable(LaunchMessageSchema, "input"),
    "queue-config-fields": fieldTable(
      QueueConfigSchema,
      "input",
      (key) => key !== "spec" && key !== "run",
    ),
  };
}

/** The README with every generated block replaced; throws when a marker is missing. */
export function withTables(readme: string): string {
  let out = readme;
  for (const [name, table] of Object.entries(readmeTables())) {
    const open = `<!-- generated:${name} (npm run schemas; edit the zod .describe() texts, not this table) -->`;
    const close = `<!-- /generated:${name} -->`;
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start) throw new Error(`README.md: no ${open} ... ${close} block`);
    out = `${out.slice(0, start + open.length)}\n${table}\n${out.slice(end)}`;
  }
  return out;
}

function main(): void {
  for (const [name, text] of Object.entries(jsonSchemaFiles())) {
    writeFileSync(join(REPO, "schemas", name), text);
  }
  const readme = join(REPO, "README.md");
  writeFileSync(readme, withTables(readFileSync(readme, "utf8")));
  console.log(`wrote schemas/*.schema.json (${SCHEMAS.length}) and the README's field tables`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
