// `vertex-dispatch queues list | show NAME | push FILE [--name NAME]`: the queue configs the
// dispatcher reads (gs://CONFIG_BUCKET/queues/, or $QUEUE_CONFIG_DIR). `push` validates the
// file first, preflight included, and refuses a config that would reject every launch.
import { basename, extname } from "node:path";
import { DispatchError } from "../shared/errors.js";
import { QUEUE_FILE_EXTENSIONS } from "../shared/queue_source.js";
import { QUEUE_NAME_RE } from "../shared/schemas/message.js";
import { parseQueueConfigText } from "../shared/schemas/queue_config.js";
import { bool, type FlagValues, str, usageError } from "./args.js";
import { checkQueueText } from "./check_queue.js";
import { type CliEnv, cliEnv, storageFor } from "./cli_env.js";
import { SPECS } from "./commands.js";
import { EXIT, NotFound } from "./exit_codes.js";
import type { Ctx } from "./io.js";
import { errorSummary } from "./present.js";
import { type QueueStore, queueStore, readQueueFile } from "./queue_store.js";

const spec = SPECS.queues;

export async function queues(values: FlagValues, positionals: string[], ctx: Ctx): Promise<number> {
  const [sub, arg] = positionals;
  const known =
    (sub === "list" && arg === undefined) || ((sub === "show" || sub === "push") && arg);
  if (!known) {
    throw usageError(
      spec,
      sub ? `cannot read "queues ${positionals.join(" ")}"` : "say list, show NAME or push FILE",
    );
  }
  const c = cliEnv(ctx.env, { project: str(values, "project"), region: str(values, "region") });
  const store = queueStore(c, () => storageFor(c));
  if (sub === "list") return list(store, values, ctx);
  if (sub === "show") return show(store, arg ?? "", values, ctx);
  return push(store, arg ?? "", values, ctx, c);
}

async function list(store: QueueStore, values: FlagValues, ctx: Ctx): Promise<number> {
  const rows: Array<{
    name: string;
    location: string;
    updated: string | null;
    valid: boolean;
    problem: string | null;
  }> = [];
  for (const file of await store.list()) {
    const found = await store.read(file.name);
    // Only the file the dispatcher reads counts (a .yaml shadows a .json of the same name).
    if (!found || found.file.location !== file.location) continue;
    let problem: string | null = null;
    try {
      parseQueueConfigText(found.text, file.location.split("/").pop() ?? file.name, file.name);
    } catch (err) {
      if (!(err instanceof DispatchError)) throw err;
      problem = errorSummary(err);
    }
    rows.push({ ...file, valid: problem === null, problem });
  }
  if (bool(values, "json")) {
    ctx.out.line(JSON.stringify(rows, null, 2));
    return EXIT.ok;
  }
  if (rows.length === 0) {
    ctx.out.line(`no queues in ${store.where}`);
    ctx.err.line("add one with: vertex-dispatch queues push FILE [--name NAME]");
    return EXIT.ok;
  }
  const w = Math.max(4, ...rows.map((r) => r.name.length));
  const lw = Math.max(8, ...rows.map((r) => r.location.length));
  ctx.out.line(`${"NAME".padEnd(w)}  ${"LOCATION".padEnd(lw)}  CONFIG`);
  for (const r of rows) {
    ctx.out.line(
      `${r.name.padEnd(w)}  ${r.location.padEnd(lw)}  ${r.valid ? "ok" : `invalid: ${r.problem}`}`,
    );
  }
  return EXIT.ok;
}

async function show(
  store: QueueStore,
  name: string,
  values: FlagValues,
  ctx: Ctx,
): Promise<number> {
  const found = await store.read(name);
  if (!found) {
    throw new NotFound(
      `queue "${name}" has no config in ${store.where}: vertex-dispatch queues list shows the queues there`,
    );
  }
  if (bool(values, "json")) {
    const config = parseQueueConfigText(
      found.text,
      found.file.location.split("/").pop() ?? name,
      name,
    );
    ctx.out.line(
      JSON.stringify(
        { name, location: found.file.location, updated: found.file.updated, config },
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  ctx.err.line(`# ${found.file.location}`);
  ctx.out.write(found.text.endsWith("\n") ? found.text : `${found.text}\n`);
  return EXIT.ok;
}

async function push(
  store: QueueStore,
  file: string,
  values: FlagValues,
  ctx: Ctx,
  c: CliEnv,
): Promise<number> {
  const ext = extname(file).toLowerCase();
  if (!(QUEUE_FILE_EXTENSIONS as readonly string[]).includes(ext)) {
    throw usageError(spec, `${file}: a queue file ends in ${QUEUE_FILE_EXTENSIONS.join(", ")}`);
  }
  const name = str(values, "name") ?? basename(file, extname(file));
  if (!QUEUE_NAME_RE.test(name)) {
    throw usageError(
      spec,
      `queue name "${name}" is not valid: use letters, digits, "_", "-" and "." (pass --name NAME)`,
    );
  }
  const text = await readQueueFile(file);
  const preflight = !bool(values, "no-preflight");
  const check = await checkQueueText({ text, fileName: basename(file), queueName: name }, c, {
    preflight,
    storage: () => storageFor(c),
    sources: {
      project: str(values, "project") ? "--project" : "GOOGLE_CLOUD_PROJECT",
      region: str(values, "region") ? "--region" : "VERTEX_REGION",
    },
  });
  for (const w of check.warnings) ctx.err.line(`${ctx.err.style.yellow("warning:")} ${w}`);
  const written = await store.write(name, ext, text);
  printPushed(name, written, preflight, check.warnings, values, ctx);
  return EXIT.ok;
}

function printPushed(
  name: string,
  written: Awaited<ReturnType<QueueStore["write"]>>,
  preflight: boolean,
  warnings: string[],
  values: FlagValues,
  ctx: Ctx,
): void {
  if (bool(values, "json")) {
    ctx.out.line(
      JSON.stringify(
        {
          name,
          location: written.file.location,
          removed: written.removed,
          preflight,
          warnings,
        },
        null,
        2,
      ),
    );
  } else {
    ctx.out.line(
      `pushed queue ${name} to ${written.file.location} (valid${preflight ? ", buckets checked" : ", preflight skipped"})`,
    );
    for (const r of written.removed)
      ctx.err.line(`removed ${r} (the dispatcher would have read it instead)`);
    ctx.err.line(
      `the dispatcher reads it within its cache time (QUEUE_CONFIG_TTL_SECONDS, 60 s by default); launch with: vertex-dispatch submit --queue ${name} ...`,
    );
  }
}
