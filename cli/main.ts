// `vertex-dispatch`: picks the command, prints --help from its spec, parses its flags,
// runs it, and turns whatever it throws into one line on stderr (with how to fix it)
// and an exit code from the one table (cli/exit_codes.ts).

import { howToFix } from "../shared/error_hints.js";
import { DispatchError } from "../shared/errors.js";
import { helpText, parseFlags } from "./args.js";
import { type CommandName, LOADERS, SPECS, specOf } from "./commands.js";
import type { Env } from "./env_types.js";
import { EXIT, EXIT_TABLE, exitCodeFor, NotFound } from "./exit_codes.js";
import { type Ctx, type Io, makeCtx, processIo } from "./io.js";

export type { Env } from "./env_types.js";

function usage(): string {
  const width = Math.max(...Object.keys(SPECS).map((n) => n.length));
  const lines = Object.values(SPECS).map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`);
  const codes = EXIT_TABLE.map(([code, what]) => `  ${String(code).padStart(3)}  ${what}`);
  return [
    "vertex-dispatch: W&B Launch on Vertex AI without an agent: launches, queues, status.",
    "",
    "usage: vertex-dispatch COMMAND [FLAGS]   (vertex-dispatch COMMAND --help for its flags)",
    "",
    "commands:",
    ...lines,
    "",
    "exit codes:",
    ...codes,
    "",
    "example:",
    "  vertex-dispatch submit --queue demo --entity acme --wandb-project vision \\",
    "    --image us-central1-docker.pkg.dev/acme-ml/train/resnet:1 --follow",
    "",
  ].join("\n");
}

export async function main(argv: string[], env: Env, io: Io = processIo()): Promise<number> {
  const ctx = makeCtx(env, io);
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" ? rest[0] : undefined;
    const spec = topic ? specOf(topic) : undefined;
    if (spec) ctx.out.write(helpText(spec));
    else (name === undefined ? ctx.err : ctx.out).write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const spec = specOf(name);
  if (!spec) {
    ctx.err.line(`vertex-dispatch: unknown command "${name}"`);
    ctx.err.write(usage());
    return EXIT.usage;
  }
  try {
    const parsed = parseFlags(spec, rest);
    if (parsed.help) {
      ctx.out.write(helpText(spec));
      return EXIT.ok;
    }
    await parseOnceZod();
    return await (await LOADERS[name as CommandName]())(parsed.values, parsed.positionals, ctx);
  } catch (err) {
    return report(name, err, ctx);
  }
}

/**
 * A call parses each schema about once, so zod's JIT (a parser compiled with `new Function`
 * per object schema on its first parse, which no code cache can hold) costs more than it
 * saves: it is off before a command's modules build their schemas (zod reads the setting
 * then). The results and messages are the same either way.
 */
async function parseOnceZod(): Promise<void> {
  (await import("zod")).config({ jitless: true });
}

/** Prints a thrown error as the user should read it; returns its exit code. */
function report(command: string, err: unknown, ctx: Ctx): number {
  const { red, bold } = ctx.err.style;
  if (err instanceof DispatchError || err instanceof NotFound) {
    ctx.err.line(`${red(bold("error:"))} vertex-dispatch ${command}: ${err.message}`);
    if (err instanceof DispatchError) {
      for (const hint of howToFix(err, { local: isLocal(ctx.env) })) ctx.err.line(`  fix: ${hint}`);
    }
    return exitCodeFor(err);
  }
  const message = err instanceof Error ? err.message : String(err);
  ctx.err.line(`${red(bold("error:"))} vertex-dispatch ${command}: ${message}`);
  ctx.err.line(
    "  fix: check your credentials (gcloud auth application-default login), the project (GOOGLE_CLOUD_PROJECT) and, on the local stack, the exported emulator variables (npm start prints them)",
  );
  return exitCodeFor(err);
}

export function isLocal(env: Env): boolean {
  return Boolean(env.PUBSUB_EMULATOR_HOST || env.GCS_ENDPOINT || env.VERTEX_ENDPOINT);
}
