// `vertex-dispatch validate (--file FILE | --queue NAME) [--no-preflight]`: the static checks
// of a queue config and the preflight of its buckets (cli/check_queue.ts). --file reads a
// local file; --queue reads the deployed config, as the dispatcher would find it.
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { DispatchError } from "../shared/errors.js";
import { bool, type FlagValues, str, usageError } from "./args.js";
import { checkQueueText } from "./check_queue.js";
import { cliEnv, storageFor } from "./cli_env.js";
import { SPECS } from "./commands.js";
import { EXIT, NotFound } from "./exit_codes.js";
import type { Ctx } from "./io.js";
import { queueStore } from "./queue_store.js";

const spec = SPECS.validate;

export async function validate(values: FlagValues, _p: string[], ctx: Ctx): Promise<number> {
  const file = str(values, "file");
  const queue = str(values, "queue");
  if (!file === !queue) throw usageError(spec, "give one of --file FILE or --queue NAME");
  const c = cliEnv(ctx.env, { project: str(values, "project"), region: str(values, "region") });
  const storage = () => storageFor(c);
  let input: { text: string; fileName: string; queueName: string; where: string };
  if (file) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new DispatchError(
        "usage",
        `cannot read the queue file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    input = {
      text,
      fileName: basename(file),
      queueName: basename(file, extname(file)),
      where: file,
    };
  } else {
    const store = queueStore(c, storage);
    const found = await store.read(queue ?? "");
    if (!found) {
      throw new NotFound(
        `queue "${queue}" has no config in ${store.where}: add one with: vertex-dispatch queues push FILE --name ${queue}`,
      );
    }
    const fileName = found.file.location.split("/").pop() ?? "";
    input = { text: found.text, fileName, queueName: queue ?? "", where: found.file.location };
  }
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
    ctx.out.line(
      JSON.stringify(
        {
          queue: input.queueName,
          source: input.where,
          valid: true,
          parent: check.resolved.parent,
          preflight,
          warnings: check.warnings,
        },
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
