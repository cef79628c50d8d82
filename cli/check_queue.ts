// The checks `validate` and `queues push` make on a queue config: the schema, resolution
// of a stand-in launch (template variables take their defaults), the image rules, and the
// preflight of its buckets against Cloud Storage (SPEC §5). Throws the dispatcher's own
// errors (invalid_config, preflight_failed); returns the warnings.
import type { Storage } from "@google-cloud/storage";
import { checkBuckets, imageWarnings, storageBucketInfo } from "../shared/preflight.js";
import { type ResolvedLaunch, resolveLaunch } from "../shared/resolve/resolve.js";
import { parseLaunchMessage } from "../shared/schemas/message.js";
import { parseQueueConfigText } from "../shared/schemas/queue_config.js";
import type { CliEnv } from "./cli_env.js";

const STAND_IN_IMAGE = "us-central1-docker.pkg.dev/validate/validate/validate:latest";

export interface QueueCheck {
  resolved: ResolvedLaunch;
  warnings: string[];
  preflight: boolean;
}

export async function checkQueueText(
  input: { text: string; fileName: string; queueName: string },
  c: CliEnv,
  opts: {
    preflight: boolean;
    storage: () => Storage;
    sources: { project: string; region: string };
  },
): Promise<QueueCheck> {
  const config = parseQueueConfigText(input.text, input.fileName, input.queueName);
  const message = parseLaunchMessage({
    queue: input.queueName,
    entity: "validate",
    project: "validate",
    run_id: "validate",
    image_uri: STAND_IN_IMAGE,
  });
  const standInAccount = `dispatcher-default@${c.project}.iam.gserviceaccount.com`;
  const resolved = resolveLaunch({
    queueName: input.queueName,
    config,
    message,
    idempotencyKey: `${input.queueName}/validate`,
    defaults: {
      project: c.project,
      region: c.region,
      defaultServiceAccount: c.defaultServiceAccount ?? standInAccount,
      wandbBaseUrl: "https://api.wandb.ai",
      sources: opts.sources,
    },
  });
  const warnings = [...resolved.warnings];
  if (!c.defaultServiceAccount && JSON.stringify(resolved.customJob).includes(standInAccount)) {
    warnings.push(
      "the queue sets no service account: its jobs run as the dispatcher's DEFAULT_JOB_SERVICE_ACCOUNT (set run.service_account to choose one)",
    );
  }
  const images = resolved.imageUris.filter((u) => u !== STAND_IN_IMAGE);
  warnings.push(...imageWarnings(images, resolved.region));
  if (opts.preflight) {
    await checkBuckets(
      [
        { bucket: resolved.stagingBucket, role: "staging bucket" },
        { bucket: resolved.outputBucket, role: "output bucket (base_output_dir)" },
      ],
      resolved.region,
      storageBucketInfo(opts.storage()),
    );
  }
  return { resolved, warnings, preflight: opts.preflight };
}
