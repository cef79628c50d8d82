// Where queue configs come from: `gs://$CONFIG_BUCKET/queues/<queue>.yaml|.yml|.json` in
// production, or `$QUEUE_CONFIG_DIR/<queue>.yaml|.yml|.json` in development. Parsed
// configs are cached per instance for a short TTL, so a config edit takes effect
// within the TTL without a redeploy.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Bucket } from "@google-cloud/storage";
import { DispatchError } from "./errors.js";
import { parseQueueConfigText, type QueueConfig } from "./schemas/queue_config.js";
import { httpStatus, storageError } from "./storage/errors.js";

export const QUEUE_FILE_EXTENSIONS = [".yaml", ".yml", ".json"] as const;
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface QueueSource {
  /** The parsed config of a queue; throws queue_not_found or invalid_config. */
  load(queue: string): Promise<QueueConfig>;
  /** Where configs are read from, for messages. */
  readonly where: string;
}

/** Reads one file's text by name, or null when it does not exist. */
type ReadText = (fileName: string) => Promise<string | null>;

function cachedSource(
  where: string,
  read: ReadText,
  ttlMs: number,
  now: () => number,
): QueueSource {
  const cache = new Map<string, { config: QueueConfig; expires: number }>();
  return {
    where,
    async load(queue) {
      if (!QUEUE_NAME.test(queue)) {
        throw new DispatchError(
          "invalid_message",
          `queue name "${queue}" is not valid: use letters, digits, "_", "-" and "." (it names a file ${where}<queue>.yaml)`,
          { issues: [{ path: "queue", message: "expected [A-Za-z0-9][A-Za-z0-9_.-]*" }] },
        );
      }
      const hit = cache.get(queue);
      if (hit && hit.expires > now()) return hit.config;
      for (const ext of QUEUE_FILE_EXTENSIONS) {
        const text = await read(`${queue}${ext}`);
        if (text === null) continue;
        const config = parseQueueConfigText(text, `${queue}${ext}`, queue);
        cache.set(queue, { config, expires: now() + ttlMs });
        return config;
      }
      throw new DispatchError(
        "queue_not_found",
        `queue "${queue}" has no config: create ${where}${queue}.yaml (or .json) with the queue's spec and run sections`,
        { issues: [{ path: "queue", message: `no ${where}${queue}.yaml, .yml or .json` }] },
      );
    },
  };
}

export function directoryQueueSource(
  dir: string,
  ttlMs: number,
  now: () => number = Date.now,
): QueueSource {
  return cachedSource(
    `${dir.replace(/\/$/, "")}/`,
    async (name) => {
      try {
        return await readFile(join(dir, name), "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    },
    ttlMs,
    now,
  );
}

export function bucketQueueSource(
  bucket: Bucket,
  ttlMs: number,
  now: () => number = Date.now,
): QueueSource {
  return cachedSource(
    `gs://${bucket.name}/queues/`,
    async (name) => {
      try {
        const [data] = await bucket.file(`queues/${name}`).download();
        return data.toString("utf8");
      } catch (err) {
        if (httpStatus(err) === 404) return null;
        throw storageError(err, `reading queue config gs://${bucket.name}/queues/${name}`);
      }
    },
    ttlMs,
    now,
  );
}
