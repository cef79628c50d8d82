// `vertex-dispatch render --file FILE --message FILE [--project P --region R --service-account SA]`:
// prints the CreateCustomJobRequest the dispatcher would send, as proto3 JSON, on stdout;
// every warning (resolution and image registry) goes to stderr. No network. Exit 0; exit
// 2 with every error (path and expectation) on stderr for invalid input.
//
// --project/--region/--service-account stand in for the dispatcher's GOOGLE_CLOUD_PROJECT,
// VERTEX_REGION and DEFAULT_JOB_SERVICE_ACCOUNT (read from the environment when the flag is
// absent); a queue's own `project`/`region`/service account win, as in the dispatcher. The
// secret is never read: when WANDB_API_KEY is set, the request shows WANDB_API_KEY as "<redacted>".
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { DispatchError, issuesError } from "../shared/errors.js";
import { imageWarnings } from "../shared/preflight.js";
import { idempotencyKeyFor } from "../shared/resolve/ids.js";
import { toProto3Json } from "../shared/resolve/proto_json.js";
import { resolveLaunch } from "../shared/resolve/resolve.js";
import { parseLaunchMessage } from "../shared/schemas/message.js";
import { parseQueueConfigText } from "../shared/schemas/queue_config.js";
import { type FlagValues, need, str } from "./args.js";
import { SPECS } from "./commands.js";
import { EXIT } from "./exit_codes.js";
import type { Ctx } from "./io.js";

/** What render shows in place of the dispatcher's W&B API key. */
export const REDACTED = "<redacted>";

/** The message id render uses for the idempotency key when the message has no run_id. */
export const RENDER_MESSAGE_ID = "render";

const spec = SPECS.render;

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

function readMessage(path: string) {
  let data: unknown;
  try {
    data = JSON.parse(readText(path, "message"));
  } catch (err) {
    if (err instanceof DispatchError) throw err;
    throw new DispatchError(
      "invalid_message",
      `the message file ${path} is not valid JSON: ${(err as Error).message}`,
    );
  }
  const message = parseLaunchMessage(data);
  if (message.action !== "launch") {
    throw issuesError("invalid_message", `nothing to render in ${path}`, [
      {
        path: "action",
        message: `render prints the CustomJob of a "launch" message; a "${message.action}" message creates none`,
      },
    ]);
  }
  return message;
}

export async function render(values: FlagValues, _p: string[], ctx: Ctx): Promise<number> {
  const queueFile = need(spec, values, "file");
  const messageFile = need(spec, values, "message");
  const queueName = basename(queueFile, extname(queueFile));
  const config = parseQueueConfigText(readText(queueFile, "queue"), queueFile, queueName);
  const message = readMessage(messageFile);
  if (message.queue !== queueName) {
    ctx.err.line(
      `${ctx.err.style.yellow("warning:")} the message names queue "${message.queue}"; rendering it against ${queueFile} ("${queueName}")`,
    );
  }
  const env = ctx.env;
  const flag = (name: string) => str(values, name);
  const resolved = resolveLaunch({
    queueName,
    config,
    message,
    idempotencyKey: idempotencyKeyFor(message, {}, RENDER_MESSAGE_ID),
    defaults: {
      project: flag("project") ?? env.GOOGLE_CLOUD_PROJECT,
      region: flag("region") ?? env.VERTEX_REGION,
      defaultServiceAccount: flag("service-account") ?? env.DEFAULT_JOB_SERVICE_ACCOUNT,
      wandbBaseUrl: env.WANDB_BASE_URL,
      wandbApiKey: env.WANDB_API_KEY ? REDACTED : undefined,
      // Errors about a default name where it came from: the flag, else the variable.
      sources: {
        project: flag("project") !== undefined ? "--project" : "GOOGLE_CLOUD_PROJECT",
        region: flag("region") !== undefined ? "--region" : "VERTEX_REGION",
        defaultServiceAccount:
          flag("service-account") !== undefined
            ? "--service-account"
            : "DEFAULT_JOB_SERVICE_ACCOUNT",
      },
    },
  });
  const request = toProto3Json({ parent: resolved.parent, customJob: resolved.customJob });
  ctx.out.line(JSON.stringify(request, null, 2));
  const warnings = [...resolved.warnings, ...imageWarnings(resolved.imageUris, resolved.region)];
  for (const w of warnings) ctx.err.line(`${ctx.err.style.yellow("warning:")} ${w}`);
  return EXIT.ok;
}
