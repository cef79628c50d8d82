// W&B macros (SPEC §3) in every string of spec/run: `${image_uri}`, `${project_name}`,
// `${entity_name}`, `${run_id}`, `${run_name}`, `${author}`, `${queue_name}`. Unknown
// `${...}` are left as they are and reported as warnings. The dispatcher's environment
// variables are never substituted (unlike the W&B agent).
import type { Issue } from "../errors.js";
import { formatPath } from "../errors.js";
import { didYouMean } from "./keys.js";

export const MACRO_NAMES = [
  "image_uri",
  "project_name",
  "entity_name",
  "run_id",
  "run_name",
  "author",
  "queue_name",
] as const;
export type MacroName = (typeof MACRO_NAMES)[number];

/** A macro's value, or why it has none (`required`: an error; else substituted as "" with a warning). */
export type MacroValue = string | { missing: string; required: boolean };

const MACRO_RE = /\$\{([^}]*)\}/g;

/** Substitutes macros in every string of `data` (keys are left alone). */
export function substituteMacros(
  data: unknown,
  path: (string | number)[],
  values: Record<MacroName, MacroValue>,
  issues: Issue[],
  warnings: string[],
  /** Receives the path of every string left with a missing required value. */
  unresolved: Set<string> = new Set(),
): unknown {
  if (typeof data === "string") {
    if (!data.includes("${")) return data;
    return data.replace(MACRO_RE, (whole, name: string) => {
      const where = formatPath(path);
      if (!(MACRO_NAMES as readonly string[]).includes(name)) {
        const hint = didYouMean(name, MACRO_NAMES);
        warnings.push(
          `${where}: unknown macro ${whole} left as is${hint ? ` (did you mean \${${hint}}?)` : ""}; known macros: ${MACRO_NAMES.map((m) => `\${${m}}`).join(", ")}`,
        );
        return whole;
      }
      const value = values[name as MacroName];
      if (typeof value === "string") return value;
      if (value.required) unresolved.add(where);
      if (value.required)
        issues.push({ path: where, message: `uses ${whole} but ${value.missing}` });
      else warnings.push(`${where}: ${whole} is empty because ${value.missing}`);
      return "";
    });
  }
  if (Array.isArray(data)) {
    return data.map((item, i) =>
      substituteMacros(item, [...path, i], values, issues, warnings, unresolved),
    );
  }
  if (data !== null && typeof data === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data)) {
      out[key] = substituteMacros(value, [...path, key], values, issues, warnings, unresolved);
    }
    return out;
  }
  return data;
}
