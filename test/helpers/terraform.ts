// terraform/ parsed with @cdktf/hcl2json (Terraform's own HCL parser compiled to WASM), and
// the checks of its resources against the provider schema extracted from the
// @cdktf/provider-google .jsii assembly (tools/google-provider-schema.json). No provider
// can be downloaded here, so `terraform validate` cannot run; this is what stands in.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { convertFiles } from "@cdktf/hcl2json";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export const MODULE_DIR = join(ROOT, "terraform");
export const SCHEMA_FILE = join(ROOT, "tools", "google-provider-schema.json");

// biome-ignore lint/suspicious/noExplicitAny: parsed HCL is untyped JSON.
export type Hcl = Record<string, any>;

let parsed: Promise<Hcl> | undefined;
/** The whole module (every .tf file), parsed once per test file. */
export function loadModule(): Promise<Hcl> {
  parsed ??= convertFiles(MODULE_DIR);
  return parsed;
}

/** One resource's body (hcl2json wraps every block in an array). */
export function resource(hcl: Hcl, type: string, name: string): Hcl {
  const body = hcl.resource?.[type]?.[name]?.[0];
  if (!body) throw new Error(`terraform/ has no resource ${type}.${name}`);
  return body;
}

/** Every `locals` value, merged across locals blocks. */
export function locals(hcl: Hcl): Hcl {
  return Object.assign({}, ...(hcl.locals ?? []));
}

export interface BlockSchema {
  arguments: Record<string, { required: boolean; type: string }>;
  blocks: Record<string, BlockSchema & { required: boolean; list: boolean }>;
}
export interface TypeSchema extends BlockSchema {
  attributes: Record<string, string[] | null>;
}
export interface ProviderSchema {
  provider_version: string;
  resource: Record<string, TypeSchema>;
  data: Record<string, TypeSchema>;
}

export function loadSchema(): ProviderSchema {
  return JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as ProviderSchema;
}

const META_ARGUMENTS = new Set([
  "count",
  "for_each",
  "depends_on",
  "provider",
  "lifecycle",
  "provisioner",
  "connection",
]);

/** Unknown and missing arguments and blocks of one block body, each with its path. */
export function checkBlock(body: Hcl, schema: BlockSchema, path: string, top = false): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (top && META_ARGUMENTS.has(key)) continue;
    if (key === "dynamic") {
      for (const [name, dyns] of Object.entries(value as Hcl)) {
        const block = schema.blocks[name];
        if (!block) problems.push(`${path}: unknown block "${name}" (dynamic)`);
        else
          for (const d of dyns as Hcl[])
            for (const content of d.content ?? [])
              problems.push(...checkBlock(content, block, `${path}.${name}`));
      }
      continue;
    }
    const block = schema.blocks[key];
    if (block) {
      const items = Array.isArray(value) ? (value as Hcl[]) : [];
      if (items.length === 0) problems.push(`${path}.${key}: is a block; write ${key} { ... }`);
      if (!block.list && items.length > 1) problems.push(`${path}.${key}: at most one block`);
      items.forEach((item) => {
        problems.push(...checkBlock(item, block, `${path}.${key}`));
      });
    } else if (!schema.arguments[key]) {
      problems.push(`${path}: unknown argument or block "${key}"`);
    }
  }
  const dynamicNames = new Set(Object.keys((body.dynamic as Hcl | undefined) ?? {}));
  for (const [name, arg] of Object.entries(schema.arguments))
    if (arg.required && !(name in body))
      problems.push(`${path}: missing required argument "${name}"`);
  for (const [name, block] of Object.entries(schema.blocks))
    if (block.required && !(name in body) && !dynamicNames.has(name))
      problems.push(`${path}: missing required block "${name}"`);
  return problems;
}

/** Every string in a parsed value (expressions included), for reference scans. */
export function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

const REFERENCE =
  /\b(data\.)?(google_[a-z0-9_]+)\.([a-z0-9_]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)(?:\[\d+\]\.([a-z0-9_]+))?/g;

/** References to attributes a resource or data source does not have. */
export function checkReferences(hcl: Hcl, schema: ProviderSchema): string[] {
  const problems: string[] = [];
  for (const text of strings({ ...hcl, variable: undefined })) {
    for (const m of text.matchAll(REFERENCE)) {
      const [ref, data, type, , attr, nested] = m as unknown as string[];
      const kind = data ? "data" : "resource";
      const attrs = schema[kind][type as string]?.attributes;
      if (!attrs) continue; // reported by the block check
      if (!((attr as string) in attrs)) problems.push(`${ref}: ${type} has no attribute "${attr}"`);
      else if (nested && !attrs[attr as string]?.includes(nested))
        problems.push(`${ref}: ${type}.${attr} has no attribute "${nested}"`);
    }
  }
  return problems;
}
