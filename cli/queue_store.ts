// The queue configs as the dispatcher reads them: `gs://CONFIG_BUCKET/queues/NAME.yaml|.yml|.json`,
// or `$QUEUE_CONFIG_DIR/NAME.*` when that is set (the local stack in tests). The CLI lists,
// reads and writes them here, and hands the dispatcher's own QueueSource to the precheck.

import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import type { Storage } from "@google-cloud/storage";
import { DispatchError } from "../shared/errors.js";
import {
  bucketQueueSource,
  directoryQueueSource,
  QUEUE_FILE_EXTENSIONS,
  type QueueSource,
} from "../shared/queue_source.js";
import { httpStatus, storageError } from "../shared/storage/errors.js";
import type { CliEnv } from "./cli_env.js";

export interface QueueFile {
  name: string;
  /** Where it is, e.g. gs://local-config/queues/gpu.yaml */
  location: string;
  updated: string | null;
}

export interface QueueStore {
  /** e.g. gs://local-config/queues/ */
  where: string;
  /** The dispatcher's reader (no cache). */
  source: QueueSource;
  list(): Promise<QueueFile[]>;
  /** The first of NAME.yaml, .yml, .json, as the dispatcher picks it; null if none. */
  read(name: string): Promise<{ file: QueueFile; text: string } | null>;
  /** Writes NAME.ext and removes the other extensions (which the dispatcher might read first); returns what it removed. */
  write(name: string, ext: string, text: string): Promise<{ file: QueueFile; removed: string[] }>;
}

const isQueueFile = (n: string) =>
  (QUEUE_FILE_EXTENSIONS as readonly string[]).includes(extname(n));
const nameOf = (n: string) => n.slice(0, n.length - extname(n).length);

export function queueStore(c: CliEnv, storage: () => Storage): QueueStore {
  return c.queueDir ? dirStore(c.queueDir) : bucketStore(storage(), c.configBucket);
}

function dirStore(dir: string): QueueStore {
  const where = `${dir.replace(/\/$/, "")}/`;
  const store: QueueStore = {
    where,
    source: directoryQueueSource(dir, 0),
    async list() {
      const names = (await readdir(dir).catch(() => [] as string[])).filter(isQueueFile).sort();
      return names.map((n) => ({ name: nameOf(n), location: `${where}${n}`, updated: null }));
    },
    async read(name) {
      for (const ext of QUEUE_FILE_EXTENSIONS) {
        const text = await readFile(join(dir, `${name}${ext}`), "utf8").catch(() => null);
        if (text !== null)
          return { file: { name, location: `${where}${name}${ext}`, updated: null }, text };
      }
      return null;
    },
    async write(name, ext, text) {
      await writeFile(join(dir, `${name}${ext}`), text);
      const removed: string[] = [];
      for (const other of QUEUE_FILE_EXTENSIONS.filter((e) => e !== ext)) {
        const path = join(dir, `${name}${other}`);
        if ((await readFile(path).catch(() => null)) === null) continue;
        await rm(path, { force: true });
        removed.push(`${where}${name}${other}`);
      }
      return { file: { name, location: `${where}${name}${ext}`, updated: null }, removed };
    },
  };
  return store;
}

function bucketStore(storage: Storage, bucketName: string): QueueStore {
  const bucket = storage.bucket(bucketName);
  const where = `gs://${bucketName}/queues/`;
  return {
    where,
    source: bucketQueueSource(bucket, 0),
    async list() {
      const [files] = await call(`listing ${where}`, () =>
        bucket.getFiles({ prefix: "queues/", autoPaginate: true }),
      );
      return files
        .filter((f) => isQueueFile(f.name) && !f.name.slice("queues/".length).includes("/"))
        .map((f) => ({
          name: nameOf(f.name.slice("queues/".length)),
          location: `gs://${bucketName}/${f.name}`,
          updated: f.metadata.updated ? String(f.metadata.updated) : null,
        }));
    },
    async read(name) {
      for (const ext of QUEUE_FILE_EXTENSIONS) {
        const file = bucket.file(`queues/${name}${ext}`);
        try {
          const [data] = await file.download();
          const updated = file.metadata.updated ? String(file.metadata.updated) : null;
          return { file: { name, location: `${where}${name}${ext}`, updated }, text: String(data) };
        } catch (err) {
          if (httpStatus(err) === 404) continue;
          throw storageError(err, `reading ${where}${name}${ext}`);
        }
      }
      return null;
    },
    write: (name, ext, text) => bucketWrite(bucket, where, name, ext, text),
  };
}

/** Runs one Cloud Storage call, its failure named by what it was doing. */
async function call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storageError(err, doing);
  }
}

/** Writes queues/NAME.EXT, then removes the queue's file under any other extension. */
async function bucketWrite(
  bucket: ReturnType<Storage["bucket"]>,
  where: string,
  name: string,
  ext: string,
  text: string,
) {
  const file = bucket.file(`queues/${name}${ext}`);
  await call(`writing ${where}${name}${ext}`, () =>
    file.save(text, {
      resumable: false,
      contentType: ext === ".json" ? "application/json" : "application/yaml",
    }),
  );
  const removed: string[] = [];
  for (const other of QUEUE_FILE_EXTENSIONS.filter((e) => e !== ext)) {
    const f = bucket.file(`queues/${name}${other}`);
    const [exists] = await call(`checking ${where}${name}${other}`, () => f.exists());
    if (!exists) continue;
    await call(`removing ${where}${name}${other}`, () => f.delete());
    removed.push(`${where}${name}${other}`);
  }
  const updated = String(file.metadata.updated ?? "") || null;
  return { file: { name, location: `${where}${name}${ext}`, updated }, removed };
}

/** A local queue file's text; a usage error that names the file and why it cannot be read. */
export async function readQueueFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new DispatchError(
      "usage",
      `cannot read the queue file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
