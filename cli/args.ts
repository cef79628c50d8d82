// Command specs and flag parsing. A spec is data (flags, positionals, examples), so
// `--help` of any command is printed from it without loading the command's code.
import { parseArgs } from "node:util";
import { DispatchError } from "../shared/errors.js";
import { didYouMean } from "../shared/resolve/keys.js";

export interface FlagSpec {
  type: "string" | "boolean";
  /** May be given more than once; the values arrive as an array. */
  multiple?: boolean;
  short?: string;
  /** The value's placeholder in help, e.g. NAME. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** The usage line after `vertex-dispatch `. */
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Positional arguments allowed (0 if absent). */
  positionals?: number;
  examples: string[];
  /** Extra paragraphs for --help. */
  notes?: string[];
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  values: FlagValues;
  positionals: string[];
  help: boolean;
}

const HELP_FLAG: FlagSpec = { type: "boolean", short: "h", help: "show this help" };

/** Parses argv by the spec; a bad flag is a usage error naming it and the command's usage. */
export function parseFlags(spec: CommandSpec, argv: string[]): Parsed {
  const options: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean; short?: string }
  > = {};
  for (const [name, f] of Object.entries({ ...spec.flags, help: HELP_FLAG })) {
    options[name] = {
      type: f.type,
      ...(f.multiple ? { multiple: true } : {}),
      ...(f.short ? { short: f.short } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    if (argv.includes("--help") || argv.includes("-h"))
      return { values: {}, positionals: [], help: true };
    throw usageError(spec, flagProblem(spec, err as Error));
  }
  const values = parsed.values as FlagValues;
  if (values.help) return { values, positionals: parsed.positionals, help: true };
  if (parsed.positionals.length > (spec.positionals ?? 0)) {
    const extra = parsed.positionals.slice(spec.positionals ?? 0).join(" ");
    throw usageError(spec, `unexpected argument "${extra}"`);
  }
  return { values, positionals: parsed.positionals, help: false };
}

function flagProblem(spec: CommandSpec, err: Error): string {
  const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(err.message);
  if (unknown) {
    if (unknown[2] === "queue" && "file" in spec.flags) {
      return `unknown flag --queue: ${spec.name} reads a queue file, given as --file FILE (--queue NAME names a deployed queue)`;
    }
    const guess = didYouMean(unknown[2] ?? "", Object.keys(spec.flags));
    return `unknown flag ${unknown[1]}${unknown[2]}${guess ? ` (did you mean --${guess}?)` : ""}`;
  }
  return err.message.replace(/\. To specify a positional.*$/s, "");
}

export function usageError(spec: CommandSpec, problem: string): DispatchError {
  return new DispatchError(
    "usage",
    `${problem}\nusage: vertex-dispatch ${spec.usage}\n(vertex-dispatch ${spec.name} --help shows every flag and an example)`,
  );
}

export function str(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

export function list(values: FlagValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

export function bool(values: FlagValues, name: string): boolean {
  return values[name] === true;
}

export function need(spec: CommandSpec, values: FlagValues, name: string): string {
  const v = str(values, name);
  if (!v) throw usageError(spec, `--${name} is required`);
  return v;
}

/** The --help text of a command. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.flags, help: HELP_FLAG }).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : ""}--${name}${f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""}`;
    return [left, `${f.help}${f.multiple ? " (repeatable)" : ""}`] as const;
  });
  const width = Math.min(30, Math.max(...rows.map(([l]) => l.length)));
  const flagLines = rows.map(([l, r]) =>
    l.length > width ? `  ${l}\n  ${" ".repeat(width)}  ${r}` : `  ${l.padEnd(width)}  ${r}`,
  );
  return [
    `vertex-dispatch ${spec.name}: ${spec.summary}`,
    "",
    `usage: vertex-dispatch ${spec.usage}`,
    "",
    "flags:",
    ...flagLines,
    ...(spec.notes ? ["", ...spec.notes] : []),
    "",
    spec.examples.length > 1 ? "examples:" : "example:",
    ...spec.examples.map((e) => `  ${e}`),
    "",
    "exit codes: vertex-dispatch --help lists them.",
    "",
  ].join("\n");
}

/** A flag holding whole seconds (or a count), as milliseconds or the number; `fallback` when absent. */
export function nonNegativeInt(
  spec: CommandSpec,
  values: FlagValues,
  name: string,
  fallback: number,
): number {
  const v = str(values, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw usageError(spec, `--${name} "${v}": expected a whole number >= 0`);
  return Number(v);
}
