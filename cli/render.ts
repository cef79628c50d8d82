// `vertex-dispatch render --queue FILE --message FILE [--project P --region R]`: prints
// the CreateCustomJobRequest the dispatcher would send, as proto3 JSON, on stdout; warnings
// go to stderr. No network. Exit 0; exit 2 with every error (path and expectation) on
// stderr for invalid input.
//
// --project/--region/--service-account stand in for the dispatcher's GOOGLE_CLOUD_PROJECT,
// VERTEX_REGION and DEFAULT_JOB_SERVICE_ACCOUNT (read from the environment when the flag is
// absent); a queue's own `project`/`region`/service account win, as in the dispatcher. The secret is never
// read: when WANDB_API_KEY is set, the request shows WANDB_API_KEY as "<redacted>".
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { parseArgs } from "node:util";
import { DispatchError, issuesError } from "../shared/errors.js";
import { idempotencyKeyFor } from "../shared/resolve/ids.js";
import { toProto3Json } from "../shared/resolve/proto_json.js";
import { resolveLaunch } from "../shared/resolve/resolve.js";
import { parseLaunchMessage } from "../shared/schemas/message.js";
import { parseQueueConfigText } from "../shared/schemas/queue_config.js";
import type { Env } from "./main.js";

/** What render shows in place of the dispatcher's W&B API key. */
export const REDACTED = "<redacted>";

/** The message id render uses for the idempotency key when the message has no run_id. */
export const RENDER_MESSAGE_ID = "render";

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new DispatchError(
      "usage",
      `cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export async function render(argv: string[], env: Env): Promise<number> {
  let values: {
    queue?: string;
    message?: string;
    project?: string;
    region?: string;
    "service-account"?: string;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        queue: { type: "string" },
        message: { type: "string" },
        project: { type: "string" },
        region: { type: "string" },
        "service-account": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new DispatchError(
      "usage",
      `${(err as Error).message}\nusage: vertex-dispatch render --queue FILE --message FILE [--project P --region R --service-account SA]`,
    );
  }
  if (!values.queue || !values.message) {
    throw new DispatchError(
      "usage",
      "usage: vertex-dispatch render --queue FILE --message FILE [--project P --region R --service-account SA]",
    );
  }
  const queueFile = values.queue;
  const queueName = basename(queueFile, extname(queueFile));
  const config = parseQueueConfigText(readText(queueFile, "queue"), queueFile, queueName);

  const messageText = readText(values.message, "message");
  let data: unknown;
  try {
    data = JSON.parse(messageText);
  } catch (err) {
    throw new DispatchError(
      "invalid_message",
      `the message file ${values.message} is not valid JSON: ${(err as Error).message}`,
    );
  }
  const message = parseLaunchMessage(data);
  if (message.action !== "launch") {
    throw issuesError("invalid_message", `nothing to render in ${values.message}`, [
      {
        path: "action",
        message: `render prints the CustomJob of a "launch" message; a "${message.action}" message creates none`,
      },
    ]);
  }
  if (message.queue !== queueName) {
    process.stderr.write(
      `warning: the message names queue "${message.queue}"; rendering it against ${queueFile} ("${queueName}")\n`,
    );
  }

  const resolved = resolveLaunch({
    queueName,
    config,
    message,
    idempotencyKey: idempotencyKeyFor(message, {}, RENDER_MESSAGE_ID),
    defaults: {
      project: values.project ?? env.GOOGLE_CLOUD_PROJECT,
      region: values.region ?? env.VERTEX_REGION,
      defaultServiceAccount: values["service-account"] ?? env.DEFAULT_JOB_SERVICE_ACCOUNT,
      wandbBaseUrl: env.WANDB_BASE_URL,
      wandbApiKey: env.WANDB_API_KEY ? REDACTED : undefined,
      // Errors about a default name where it came from: the flag, else the variable.
      sources: {
        project: values.project !== undefined ? "--project" : "GOOGLE_CLOUD_PROJECT",
        region: values.region !== undefined ? "--region" : "VERTEX_REGION",
        defaultServiceAccount:
          values["service-account"] !== undefined
            ? "--service-account"
            : "DEFAULT_JOB_SERVICE_ACCOUNT",
      },
    },
  });
  const request = toProto3Json({ parent: resolved.parent, customJob: resolved.customJob });
  process.stdout.write(`${JSON.stringify(request, null, 2)}\n`);
  for (const w of resolved.warnings) process.stderr.write(`warning: ${w}\n`);
  return 0;
}
