// `vertex-dispatch submit --queue Q --message FILE`: checks the message locally, then
// publishes it to the launch topic and prints the Pub/Sub message id.
import { readFile } from "node:fs/promises";
import { pubsubClient } from "../shared/clients.js";
import { DispatchError } from "../shared/errors.js";
import { parseLaunchMessage } from "../shared/schemas/message.js";
import { cliEnv, flags, required } from "./cli_env.js";
import type { Env } from "./main.js";

const USAGE = "submit --queue Q --message FILE [--idempotency-key K]";

export async function submit(argv: string[], env: Env): Promise<number> {
  const f = flags(
    argv,
    {
      queue: { type: "string" },
      message: { type: "string" },
      "idempotency-key": { type: "string" },
    },
    USAGE,
  );
  const queue = required(f.queue, "queue", USAGE);
  const file = required(f.message, "message", USAGE);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new DispatchError(
      "invalid_message",
      `${file}: not a readable JSON file (${(err as Error).message})`,
    );
  }
  body = { ...body, queue };
  parseLaunchMessage(body); // the same check the dispatcher makes: fail here, not in the cloud
  const c = cliEnv(env);
  const pubsub = pubsubClient({
    GOOGLE_CLOUD_PROJECT: c.project,
    PUBSUB_EMULATOR_HOST: c.pubsubHost,
  });
  try {
    const attributes: Record<string, string> = {};
    if (f["idempotency-key"]) attributes.idempotency_key = f["idempotency-key"];
    const id = await pubsub.topic(c.launchTopic).publishMessage({ json: body, attributes });
    process.stdout.write(`${id}\n`);
    return 0;
  } finally {
    await pubsub.close();
  }
}
