// `vertex-dispatch cancel --queue Q --run-id R`: publishes a cancel message (SPEC §7).
import { pubsubClient } from "../shared/clients.js";
import { parseLaunchMessage } from "../shared/schemas/message.js";
import { cliEnv, flags, required } from "./cli_env.js";
import type { Env } from "./main.js";

const USAGE = "cancel --queue Q --run-id R";

export async function cancel(argv: string[], env: Env): Promise<number> {
  const f = flags(argv, { queue: { type: "string" }, "run-id": { type: "string" } }, USAGE);
  const body = {
    action: "cancel",
    queue: required(f.queue, "queue", USAGE),
    run_id: required(f["run-id"], "run-id", USAGE),
  };
  parseLaunchMessage(body);
  const c = cliEnv(env);
  const pubsub = pubsubClient({
    GOOGLE_CLOUD_PROJECT: c.project,
    PUBSUB_EMULATOR_HOST: c.pubsubHost,
  });
  try {
    const id = await pubsub.topic(c.launchTopic).publishMessage({ json: body });
    process.stdout.write(`${id}\n`);
    return 0;
  } finally {
    await pubsub.close();
  }
}
