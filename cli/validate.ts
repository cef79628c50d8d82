// `vertex-dispatch validate (--file FILE | --queue NAME) [--no-preflight]`: the static checks
// of a queue config and the preflight of its buckets (cli/check_queue.ts). --file reads a
// local file; --queue reads the deployed config, as the dispatcher would find it.
import { basename, extname } from "node:path";
import { bool, type FlagValues, str, usageError } from "./args.js";
import { checkQueueText } from "./check_queue.js";
import { cliEnv, storageFor } from "./cli_env.js";
import { SPECS } from "./commands.js";
import { EXIT, NotFound } from "./exit_codes.js";
import type { Ctx } from "./io.js";
import { queueStore, readQueueFile } from "./queue_store.js";

const spec = SPECS.validate;

type Input = { text: string; fileName: string; queueName: string; where: string };
type Cli = ReturnType<typeof cliEnv>;

export async function validate(values: FlagValues, _p: string[], ctx: Ctx): Promise<number> {
  const file = str(values, "file");
  const queue = str(values, "queue");
  if (!file === !queue) throw usageError(spec, "give one of --file FILE or --queue NAME");
  const c = cliEnv(ctx.env, { project: str(values, "project"), region: str(values, "region") });
  const storage = () => storageFor(c);
  const input = file ? await fromFile(file) : await deployed(c, storage, queue ?? "");
  const preflight = !bool(values, "no-preflight");
  const check = await checkQueueText(input, c, {
    preflight,
    storage,
    sources: {
      project: str(values, "project") ? "--project" : "GOOGLE_CLOUD_PROJECT",
      region: str(values, "region") ? "--region" : "VERTEX_REGION",
    },
  });
  for (const w of check.warnings) ctx.err.line(`${ctx.err.style.yellow("warning:")} ${w}`);
  if (bool(values, "json")) {
    const out = { queue: input.queueName, source: input.where, valid: true };
    ctx.out.line(
      JSON.stringify(
        { ...out, parent: check.resolved.parent, preflight, warnings: check.warnings },
        null,
        2,
      ),
    );
  } else {
    ctx.out.line(
      `${input.where}: valid (queue ${input.queueName}, ${check.resolved.parent}${preflight ? ", buckets checked" : ", preflight skipped"})`,
    );
  }
  return EXIT.ok;
}

/** --file FILE: the queue is named by the file, without its extension. */
async function fromFile(file: string): Promise<Input> {
  const text = await readQueueFile(file);
  return { text, fileName: basename(file), queueName: basename(file, extname(file)), where: file };
}

/** --queue NAME: the config deployed for it; NotFound (exit 3) when there is none. */
async function deployed(c: Cli, storage: () => ReturnType<typeof storageFor>, queue: string) {
  const store = queueStore(c, storage);
  const found = await store.read(queue);
  if (!found) {
    throw new NotFound(
      `queue "${queue}" has no config in ${store.where}: add one with: vertex-dispatch queues push FILE --name ${queue}`,
    );
  }
  const fileName = found.file.location.split("/").pop() ?? "";
  return { text: found.text, fileName, queueName: queue, where: found.file.location };
}
