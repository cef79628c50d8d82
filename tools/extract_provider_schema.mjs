#!/usr/bin/env node
// Extracts the google provider schema of every resource and data source terraform/ uses,
// from the jsii assembly (.jsii) of the npm package @cdktf/provider-google@16 (generated
// from google provider 6.50), into tools/google-provider-schema.json. No `terraform init`
// can run here (no provider downloads), so this file is what test/terraform checks the
// module against.
//
//   node tools/extract_provider_schema.mjs              # installs the package into a temp dir (~300 MB), then removes it
//   node tools/extract_provider_schema.mjs --jsii PATH  # uses an assembly you already have
//
// Run it again when terraform/ starts using another resource type (the test says so).
// Arguments, blocks and their names come from the assembly's own Terraform Registry links
// (`...#entry_point Cloudfunctions2Function#entry_point`); a property documented as
// "X block." is a block; a property without `optional` is required.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { convertFiles } from "@cdktf/hcl2json";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGE = "@cdktf/provider-google@16";
export const SCHEMA_PATH = join(ROOT, "tools", "google-provider-schema.json");

function installAssembly() {
  const dir = mkdtempSync(join(tmpdir(), "cdktf-provider-google-"));
  const args = ["install", "--prefix", dir, "--no-save", "--no-package-lock", "--no-audit"];
  const flags = ["--no-fund", "--ignore-scripts", "--legacy-peer-deps"];
  console.error(`installing ${PACKAGE} into ${dir} (about 300 MB)...`);
  const r = spawnSync("npm", [...args, ...flags, PACKAGE], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`npm install ${PACKAGE} failed`);
  return { path: join(dir, "node_modules", "@cdktf", "provider-google", ".jsii"), dir };
}

const snake = (name) => name.replace(/([A-Z])/g, "_$1").toLowerCase();

/** The Terraform name of a property, from its Registry link; else its snake_case name. */
function tfName(prop) {
  const m = /#(\w+) \w+#\w+\}/.exec(`${prop.docs?.remarks ?? ""} ${prop.docs?.summary ?? ""}`);
  return m ? m[1] : snake(prop.name);
}

/** The struct a block property holds, and whether the block may repeat. */
function blockShape(type) {
  if (type.fqn) return { fqn: type.fqn, list: false };
  const options = type.union ? type.union.types : [type];
  for (const t of options) {
    if (t.collection?.elementtype?.fqn) return { fqn: t.collection.elementtype.fqn, list: true };
    if (t.fqn && t.fqn !== "cdktf.IResolvable") return { fqn: t.fqn, list: false };
  }
  return null;
}

function typeName(type) {
  if (type.primitive) return type.primitive === "boolean" ? "bool" : type.primitive;
  if (type.collection)
    return `${type.collection.kind === "map" ? "map" : "list"}(${typeName(type.collection.elementtype)})`;
  if (type.union) {
    const real = type.union.types.filter((t) => t.fqn !== "cdktf.IResolvable");
    return real.length === 1 ? typeName(real[0]) : "any";
  }
  return "any";
}

/** Arguments and blocks of a config struct, recursively. */
function structSchema(types, fqn) {
  const struct = types[fqn];
  if (!struct) throw new Error(`${fqn} is not in the assembly`);
  const args = {};
  const blocks = {};
  for (const prop of struct.properties ?? []) {
    const name = tfName(prop);
    const required = prop.optional !== true;
    const shape = / block\.$/.test(prop.docs?.summary ?? "") ? blockShape(prop.type) : null;
    if (shape) blocks[name] = { required, list: shape.list, ...structSchema(types, shape.fqn) };
    else args[name] = { required, type: typeName(prop.type) };
  }
  return { arguments: args, blocks };
}

/** Attributes a reference may read: the class's properties (inputs excluded), one level down. */
function attributes(types, fqn) {
  const out = {};
  for (const prop of types[fqn]?.properties ?? []) {
    if (prop.static || prop.name.endsWith("Input") || prop.protected) continue;
    let nested = types[prop.type.fqn];
    // A repeated block's list class: its get(i) gives the element's output reference.
    const get = nested?.methods?.find((m) => m.name === "get");
    if (get?.returns?.type?.fqn) nested = types[get.returns.type.fqn];
    const names = nested?.properties
      ?.filter((p) => !p.static && !p.name.endsWith("Input") && p.name !== "internalValue")
      .map((p) => snake(p.name))
      .sort();
    out[snake(prop.name)] = names && names.length > 0 ? names : null;
  }
  return out;
}

/** Every resource and data source class, by Terraform type, from the class docs' links. */
function classIndex(types) {
  const index = { resource: {}, data: {} };
  for (const [fqn, t] of Object.entries(types)) {
    const m = /docs\/(resources|data-sources)\/\w+ (google_\w+)\}/.exec(t.docs?.summary ?? "");
    if (t.kind === "class" && m) index[m[1] === "resources" ? "resource" : "data"][m[2]] = fqn;
  }
  return index;
}

async function main() {
  const at = process.argv.indexOf("--jsii");
  const installed = at > 0 ? null : installAssembly();
  const jsiiPath = at > 0 ? process.argv[at + 1] : installed.path;
  try {
    const assembly = JSON.parse(readFileSync(jsiiPath, "utf8"));
    const version = /hashicorp\/google\/([\d.]+)\//.exec(JSON.stringify(assembly.docs ?? {}))?.[1];
    const index = classIndex(assembly.types);
    const hcl = await convertFiles(join(ROOT, "terraform"));
    const schema = {
      source: `${assembly.name}@${assembly.version} (.jsii), made by tools/extract_provider_schema.mjs`,
      provider_version:
        version ??
        /google\/([\d.]+)\/docs/.exec(Object.values(assembly.types)[0]?.docs?.summary ?? "")?.[1],
      resource: {},
      data: {},
    };
    for (const kind of ["resource", "data"]) {
      for (const type of Object.keys(hcl[kind] ?? {}).sort()) {
        const fqn = index[kind][type];
        if (!fqn)
          throw new Error(`${kind} ${type} is not in google provider ${schema.provider_version}`);
        schema[kind][type] = {
          ...structSchema(assembly.types, `${fqn}Config`),
          attributes: attributes(assembly.types, fqn),
        };
      }
    }
    writeFileSync(SCHEMA_PATH, `${JSON.stringify(schema, null, 1)}\n`);
    console.error(
      `wrote ${SCHEMA_PATH}: ${Object.keys(schema.resource).length} resources, ${Object.keys(schema.data).length} data sources`,
    );
  } finally {
    if (installed) rmSync(installed.dir, { recursive: true, force: true });
  }
}

await main();
