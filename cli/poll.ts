// `vertex-dispatch poll`: one poll tick on demand, with the dispatcher's own environment
// (the same variables as the deployed function; `npm start` prints them). Prints the
// tick's summary as JSON.
import { makeClients } from "../shared/clients.js";
import { dispatchDeps } from "../shared/dispatch/deps.js";
import { parseOptions } from "../shared/options.js";
import { runTick } from "../shared/poll/poll.js";
import type { FlagValues } from "./args.js";
import { EXIT } from "./exit_codes.js";
import type { Ctx } from "./io.js";

export async function poll(_v: FlagValues, _p: string[], ctx: Ctx): Promise<number> {
  const options = parseOptions(ctx.env);
  const clients = await makeClients(options);
  try {
    const summary = await runTick({
      ...dispatchDeps(options, clients),
      pageSize: options.POLL_PAGE_SIZE,
    });
    ctx.out.line(JSON.stringify(summary));
    return summary.errors === 0 ? EXIT.ok : EXIT.cloud;
  } finally {
    await clients.close();
  }
}
