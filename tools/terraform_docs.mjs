#!/usr/bin/env node
// The tables of terraform/README.md, generated from the module's HCL (parsed with
// @cdktf/hcl2json): files and the resources each declares, variables, outputs. They sit
// between <!-- BEGIN TFDOC --> and <!-- END TFDOC -->; test/terraform/docs.test.ts fails
// when they are out of date.
//
//   node tools/terraform_docs.mjs          # rewrites the tables in terraform/README.md
//   node tools/terraform_docs.mjs --check  # exits 1 if they are out of date
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse } from "@cdktf/hcl2json";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const MODULE_DIR = join(ROOT, "terraform");
export const README = join(MODULE_DIR, "README.md");
const BEGIN = "<!-- BEGIN TFDOC -->";
const END = "<!-- END TFDOC -->";

/** `${string}` → string; multi-line object types on one line. */
function typeText(type) {
  if (typeof type !== "string") return "any";
  return type.replace(/^\$\{([\s\S]*)\}$/, "$1").replace(/\s+/g, " ");
}

const cell = (text) => String(text).replace(/\|/g, "\\|").replace(/\n/g, " ").replace(/</g, "&lt;");
const code = (text) => `<code>${cell(text)}</code>`;

function defaultText(variable) {
  if (!("default" in variable)) return "required";
  return code(JSON.stringify(variable.default));
}

/** The first sentence of a .tf file's opening comment: what the file holds. */
function fileSummary(text) {
  const lines = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("#") || line.trim() === "#") break;
    lines.push(line.replace(/^#\s*/, ""));
  }
  const comment = lines.join(" ");
  return /^.*?\.(?=\s|$)/.exec(comment)?.[0] ?? comment;
}

/** Markdown for the module: a files table, a variables table and an outputs table. */
export async function renderTables(dir = MODULE_DIR) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".tf"))
    .sort();
  const rows = { files: [], variables: [], outputs: [] };
  for (const file of files) {
    const text = readFileSync(join(dir, file), "utf8");
    const hcl = await parse(file, text);
    const types = [
      ...Object.keys(hcl.resource ?? {}),
      ...Object.keys(hcl.data ?? {}).map((t) => `data.${t}`),
    ];
    const resources = [...new Set(types)].sort().map((t) => code(t));
    rows.files.push(
      `| [${file}](./${file}) | ${cell(fileSummary(text))} | ${resources.join(" ")} |`,
    );
    for (const [name, [v]] of Object.entries(hcl.variable ?? {}))
      rows.variables.push(
        `| \`${name}\` | ${cell(v.description ?? "")} | ${code(typeText(v.type))} | ${defaultText(v)} |`,
      );
    for (const [name, [o]] of Object.entries(hcl.output ?? {}))
      rows.outputs.push(`| \`${name}\` | ${cell(o.description ?? "")} |`);
  }
  rows.variables.sort();
  rows.outputs.sort();
  return [
    "## Files",
    "",
    "| file | what it holds | resources |",
    "|---|---|---|",
    ...rows.files,
    "",
    "## Variables",
    "",
    "| name | description | type | default |",
    "|---|---|---|---|",
    ...rows.variables,
    "",
    "## Outputs",
    "",
    "| name | description |",
    "|---|---|",
    ...rows.outputs,
  ].join("\n");
}

/** The README with its generated part replaced by `tables`. */
export function withTables(readme, tables) {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start)
    throw new Error(`${README} must contain ${BEGIN} and ${END} (the tables go between them)`);
  return `${readme.slice(0, start + BEGIN.length)}\n${tables}\n${readme.slice(end)}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const readme = readFileSync(README, "utf8");
  const updated = withTables(readme, await renderTables());
  if (process.argv.includes("--check")) {
    if (updated !== readme) {
      console.error("terraform/README.md is out of date: run node tools/terraform_docs.mjs");
      process.exit(1);
    }
  } else writeFileSync(README, updated);
}
