// `vertex-dispatch validate --queue FILE [--no-preflight]`: the static checks of a queue
// config (schema, keys, template variables with their defaults, translation to the
// Vertex request), then the preflight against Cloud Storage (SPEC §5): the staging and
// output buckets exist and are single-region buckets in the Vertex region.
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { storageClient } from "../shared/clients.js";
import { DispatchError } from "../shared/errors.js";
import { checkBuckets, imageWarnings, storageBucketInfo } from "../shared/preflight.js";
import { resolveLaunch } from "../shared/resolve/resolve.js";
import { parseLaunchMessage } from "../shared/schemas/message.js";
import { parseQueueConfigText } from "../shared/schemas/queue_config.js";
import { cliEnv, flags, required } from "./cli_env.js";
import type { Env } from "./main.js";

const USAGE = "validate --queue FILE [--project P --region R] [--no-preflight]";

export async function validate(argv: string[], env: Env): Promise<number> {
  const f = flags(
    argv,
    {
      queue: { type: "string" },
      project: { type: "string" },
      region: { type: "string" },
      "no-preflight": { type: "boolean" },
    },
    USAGE,
  );
  const file = required(f.queue, "queue", USAGE);
  const queueName = basename(file, extname(file));
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new DispatchError("usage", `${file}: cannot read (${(err as Error).message})`);
  }
  const config = parseQueueConfigText(text, basename(file), queueName);
  const c = cliEnv(env, { project: f.project, region: f.region });
  // A stand-in launch: template variables take their defaults, macros get sample values.
  const message = parseLaunchMessage({
    queue: queueName,
    entity: "validate",
    project: "validate",
    run_id: "validate",
    image_uri: "us-central1-docker.pkg.dev/validate/validate/validate:latest",
  });
  const resolved = resolveLaunch({
    queueName,
    config,
    message,
    idempotencyKey: `${queueName}/validate`,
    defaults: {
      project: c.project,
      region: c.region,
      defaultServiceAccount: env.DEFAULT_JOB_SERVICE_ACCOUNT,
      wandbBaseUrl: "https://api.wandb.ai",
      sources: {
        project: f.project ? "--project" : "GOOGLE_CLOUD_PROJECT",
        region: f.region ? "--region" : "VERTEX_REGION",
      },
    },
  });
  const warnings = [...resolved.warnings];
  if (!f["no-preflight"]) {
    const storage = storageClient({ GOOGLE_CLOUD_PROJECT: c.project, GCS_ENDPOINT: c.gcsEndpoint });
    await checkBuckets(
      [
        { bucket: resolved.stagingBucket, role: "staging bucket" },
        { bucket: resolved.outputBucket, role: "output bucket (base_output_dir)" },
      ],
      resolved.region,
      storageBucketInfo(storage),
    );
    warnings.push(
      ...imageWarnings(
        resolved.imageUris.filter((u) => !u.includes("/validate/")),
        resolved.region,
      ),
    );
  }
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(
    `${file}: valid (queue ${queueName}, ${resolved.parent}${f["no-preflight"] ? ", preflight skipped" : ", buckets checked"})\n`,
  );
  return 0;
}
