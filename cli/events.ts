// `vertex-dispatch events [--queue NAME] [--run-id R]`: tails launch-status through its own
// temporary subscription, which it deletes on exit (also after --count, --timeout, an
// error and Ctrl-C). One line per event, or one JSON object per line with --json.
import { bool, type FlagValues, nonNegativeInt, str } from "./args.js";
import { cliEnv, pubsubFor } from "./cli_env.js";
import { SPECS } from "./commands.js";
import { EXIT } from "./exit_codes.js";
import type { Ctx } from "./io.js";
import { eventLines } from "./present.js";
import { withWatch } from "./watch.js";

const spec = SPECS.events;

export async function events(values: FlagValues, _p: string[], ctx: Ctx): Promise<number> {
  const queue = str(values, "queue");
  const runId = str(values, "run-id");
  const count = nonNegativeInt(spec, values, "count", 0);
  const timeoutMs = nonNegativeInt(spec, values, "timeout", 0) * 1000;
  const json = bool(values, "json");
  const c = cliEnv(ctx.env, { project: str(values, "project") });
  const options = {
    topic: c.statusTopic,
    keep: (e: { queue: string | null; run_id: string | null }) =>
      (!queue || e.queue === queue) && (!runId || e.run_id === runId),
    ...(queue ? { filter: `attributes.queue = ${JSON.stringify(queue)}` } : {}),
  };
  const local = c.local;
  return withWatch(pubsubFor(c), options, ctx.io.onInterrupt, async (watch) => {
    ctx.err.line(
      `listening on ${c.statusTopic} through the temporary subscription ${watch.name} (deleted on exit; Ctrl-C to stop)`,
    );
    const deadline = timeoutMs > 0 ? ctx.io.now() + timeoutMs : 0;
    const jobs = new Set<string>();
    for (let seen = 0; count === 0 || seen < count; seen++) {
      const left = deadline ? deadline - ctx.io.now() : 0;
      if (deadline && left <= 0) return EXIT.ok;
      const e = await watch.next(deadline ? left : 0);
      if (e === "timeout") return EXIT.ok;
      if (e === "interrupted") return EXIT.interrupted;
      if (json) {
        ctx.out.line(JSON.stringify(e));
        continue;
      }
      const showJob = e.job_name !== null && !jobs.has(e.job_name);
      if (e.job_name) jobs.add(e.job_name);
      const who = `${e.queue ?? "-"}/${e.run_id ?? "-"}`;
      for (const l of eventLines(e, { style: ctx.out.style, local, showJob, who })) ctx.out.line(l);
    }
    return EXIT.ok;
  });
}
