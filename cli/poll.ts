// `vertex-dispatch poll`: one poll tick on demand, with the dispatcher's own environment
// (the same variables as the deployed function; `npm start` prints them). Prints the
// tick's summary as JSON.
import { makeClients } from "../shared/clients.js";
import { dispatchDeps } from "../shared/dispatch/deps.js";
import { parseOptions } from "../shared/options.js";
import { runTick } from "../shared/poll/poll.js";
import { flags } from "./cli_env.js";
import type { Env } from "./main.js";

export async function poll(argv: string[], env: Env): Promise<number> {
  flags(argv, {}, "poll");
  const options = parseOptions(env);
  const clients = await makeClients(options);
  try {
    const summary = await runTick({
      ...dispatchDeps(options, clients),
      pageSize: options.POLL_PAGE_SIZE,
    });
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary.errors === 0 ? 0 : 1;
  } finally {
    await clients.close();
  }
}
