// GCS emulator conformance, driven by @google-cloud/storage as the product uses it:
// `new Storage({ apiEndpoint: emulator.url, projectId })`, no credentials.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { CRC32C, type File, Storage } from "@google-cloud/storage";
import { type GcsEmulator, startGcsEmulator } from "../../local/gcs/index.js";

let gcs: GcsEmulator;
let storage: Storage;

before(async () => {
  gcs = await startGcsEmulator({ port: 0 });
  storage = new Storage({ apiEndpoint: gcs.url, projectId: "local-project" });
});
after(() => gcs.close());

function status(err: unknown): number | undefined {
  const e = err as { code?: unknown; response?: { status?: number } };
  return typeof e.code === "number" ? e.code : e.response?.status;
}

async function rejectsWith(promise: Promise<unknown>, code: number): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.equal(status(err), code, `expected ${code}, got ${String(err)}`);
    return err as Error;
  }
  assert.fail(`expected an error ${code}`);
}

describe("buckets", () => {
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    ["b-region", { location: "us-central1" }, "US-CENTRAL1", "region"],
    ["b-dual", { location: "nam4" }, "NAM4", "dual-region"],
    ["b-eur4", { location: "EUR4" }, "EUR4", "dual-region"],
    ["b-multi", { location: "us" }, "US", "multi-region"],
    ["b-asia", { location: "asia" }, "ASIA", "multi-region"],
    ["b-default", {}, "US", "multi-region"],
  ];
  for (const [name, options, location, locationType] of cases) {
    it(`${JSON.stringify(options)} is ${location} ${locationType}`, async () => {
      const [bucket] = await storage.createBucket(name, options);
      assert.equal(bucket.metadata.location, location);
      const [metadata] = await storage.bucket(name).getMetadata();
      assert.equal(metadata.location, location);
      assert.equal(metadata.locationType, locationType);
      assert.equal(metadata.name, name);
      assert.equal(metadata.metageneration, "1");
      assert.equal(metadata.customPlacementConfig, undefined);
    });
  }

  it("a configurable dual-region keeps customPlacementConfig", async () => {
    await storage.createBucket("b-custom", {
      location: "US",
      customPlacementConfig: { dataLocations: ["us-east1", "US-WEST1"] },
    });
    const [metadata] = await storage.bucket("b-custom").getMetadata();
    assert.equal(metadata.location, "US");
    assert.equal(metadata.locationType, "dual-region");
    assert.deepEqual(metadata.customPlacementConfig, { dataLocations: ["US-EAST1", "US-WEST1"] });
  });

  it("409 on an existing bucket, 404 on a missing one, 400 on bad names and locations", async () => {
    await storage.createBucket("b-twice", { location: "europe-west4" });
    const conflict = await rejectsWith(storage.createBucket("b-twice"), 409);
    assert.match(conflict.message, /already own it/);
    const missing = await rejectsWith(storage.bucket("b-nope").getMetadata(), 404);
    assert.equal(missing.message, "The specified bucket does not exist.");
    assert.equal((await storage.bucket("b-nope").exists())[0], false);
    assert.equal((await storage.bucket("b-twice").exists())[0], true);
    await rejectsWith(storage.createBucket("No_Caps"), 400);
    await rejectsWith(storage.createBucket("b-where", { location: "moon" }), 400);
  });

  it("lists buckets with paging, deletes empty ones, refuses non-empty ones", async () => {
    await storage.createBucket("list-a");
    await storage.createBucket("list-b");
    await storage.createBucket("list-c");
    const [all] = await storage.getBuckets({ prefix: "list-" });
    assert.deepEqual(
      all.map((b) => b.name),
      ["list-a", "list-b", "list-c"],
    );
    const [page, next] = await storage.getBuckets({
      prefix: "list-",
      maxResults: 2,
      autoPaginate: false,
    });
    assert.deepEqual(
      page.map((b) => b.name),
      ["list-a", "list-b"],
    );
    assert.ok(next);
    const [rest] = await storage.getBuckets({ ...next, autoPaginate: false });
    assert.deepEqual(
      rest.map((b) => b.name),
      ["list-c"],
    );
    await storage.bucket("list-c").file("x").save("x");
    const notEmpty = await rejectsWith(storage.bucket("list-c").delete(), 409);
    assert.match(notEmpty.message, /not empty/);
    await storage.bucket("list-a").delete();
    assert.equal((await storage.bucket("list-a").exists())[0], false);
  });

  it("patches labels with metageneration preconditions", async () => {
    const bucket = storage.bucket("b-region");
    const [patched] = await bucket.setMetadata({ labels: { team: "ml" } });
    assert.deepEqual(patched.labels, { team: "ml" });
    assert.equal(patched.metageneration, "2");
    await rejectsWith(
      bucket.setMetadata({ labels: { a: "b" } }, { ifMetagenerationMatch: 1 }),
      412,
    );
  });
});

describe("objects", () => {
  const bucket = () => storage.bucket("objects");
  before(async () => {
    await storage.createBucket("objects", { location: "us-central1" });
  });

  it("save (resumable, multipart) → exists → download → delete", async () => {
    for (const resumable of [true, false]) {
      const file = bucket().file(`dir/hello-${resumable}.txt`);
      await file.save("hello world", { resumable, contentType: "text/plain" });
      assert.equal((await file.exists())[0], true);
      const [data] = await file.download();
      assert.equal(data.toString(), "hello world");
      const [metadata] = await file.getMetadata();
      assert.equal(metadata.contentType, "text/plain");
      assert.equal(metadata.size, "11");
      assert.equal(metadata.metageneration, "1");
      assert.match(String(metadata.generation), /^\d{16}$/);
      await file.delete();
      assert.equal((await file.exists())[0], false);
      await rejectsWith(file.download(), 404);
    }
  });

  it("md5Hash and crc32c are base64 digests, as the SDK computes them", async () => {
    const data = Buffer.from("The quick brown fox jumps over the lazy dog");
    const file = bucket().file("hashes");
    await file.save(data, { resumable: false, validation: "crc32c" });
    await file.save(data, { resumable: true, validation: "md5" });
    const [metadata] = await file.getMetadata();
    assert.equal(metadata.md5Hash, createHash("md5").update(data).digest("base64"));
    const crc = new CRC32C();
    crc.update(data);
    assert.equal(metadata.crc32c, crc.toString());
    assert.equal(metadata.crc32c, "ImIEBA==");
    for (const validation of ["crc32c", "md5"] as const) {
      const [back] = await file.download({ validation });
      assert.deepEqual(back, data);
    }
  });

  it("resumable uploads in chunks (308 + Range) and byte-range downloads", async () => {
    const data = Buffer.alloc(700 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
    const file = bucket().file("big.bin");
    await file.save(data, { resumable: true, chunkSize: 256 * 1024 });
    const [back] = await file.download();
    assert.ok(back.equals(data));
    const [slice] = await file.download({ start: 10, end: 19 });
    assert.ok(slice.equals(data.subarray(10, 20)));
    const puts = gcs.control.requests("uploads.resumable").filter((r) => r.object === undefined);
    assert.ok(puts.filter((r) => r.status === 308).length >= 2, "intermediate chunks answered 308");
  });

  it("lists with prefix, delimiter and pages", async () => {
    const names = [
      "list/a.txt",
      "list/b.txt",
      "list/sub/c.txt",
      "list/sub/d.txt",
      "list/sub2/e.txt",
      "list/z.txt",
    ];
    for (const name of names) await bucket().file(name).save(name, { resumable: false });
    const [all] = await bucket().getFiles({ prefix: "list/" });
    assert.deepEqual(
      all.map((f) => f.name),
      names,
    );
    const [top, , response] = await bucket().getFiles({
      prefix: "list/",
      delimiter: "/",
      autoPaginate: false,
    });
    assert.deepEqual(
      top.map((f) => f.name),
      ["list/a.txt", "list/b.txt", "list/z.txt"],
    );
    assert.deepEqual((response as { prefixes?: string[] }).prefixes, ["list/sub/", "list/sub2/"]);

    // Pages of 2 (items and prefixes together), as GCS counts them.
    const seen: string[] = [];
    let query: Record<string, unknown> | null = {
      prefix: "list/",
      delimiter: "/",
      maxResults: 2,
      autoPaginate: false,
    };
    let pages = 0;
    while (query) {
      const [files, next, raw]: [File[], unknown, unknown] = await bucket().getFiles(query);
      const prefixes = (raw as { prefixes?: string[] }).prefixes ?? [];
      assert.ok(files.length + prefixes.length <= 2);
      seen.push(...files.map((f) => f.name), ...prefixes);
      query = (next as Record<string, unknown> | null) ?? null;
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), [
      "list/a.txt",
      "list/b.txt",
      "list/sub/",
      "list/sub2/",
      "list/z.txt",
    ]);
  });

  it("preconditions: create-only, generation match, metageneration match → 412", async () => {
    const file = bucket().file("records/launch-1.json");
    await file.save("{}", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const again = await rejectsWith(
      file.save("{}", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
      412,
    );
    assert.equal(again.message, "At least one of the pre-conditions you specified did not hold.");
    await rejectsWith(
      file.save("{}", { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }),
      412,
    );

    const [metadata] = await file.getMetadata();
    const generation = Number(metadata.generation);
    await file.save('{"v":2}', {
      resumable: false,
      preconditionOpts: { ifGenerationMatch: generation },
    });
    await rejectsWith(
      file.save('{"v":3}', {
        resumable: false,
        preconditionOpts: { ifGenerationMatch: generation },
      }),
      412,
    );
    const [now] = await file.getMetadata();
    assert.ok(Number(now.generation) > generation);
    await rejectsWith(file.delete({ ifGenerationMatch: generation }), 412);
    await rejectsWith(
      file.save("x", {
        resumable: false,
        preconditionOpts: { ifGenerationNotMatch: Number(now.generation) },
      }),
      412,
    );

    const [patched] = await file.setMetadata(
      { metadata: { state: "submitted" } },
      { ifMetagenerationMatch: 1 },
    );
    assert.equal(patched.metageneration, "2");
    await rejectsWith(
      file.setMetadata({ metadata: { state: "x" } }, { ifMetagenerationMatch: 1 }),
      412,
    );
    await rejectsWith(
      file.setMetadata({ metadata: { state: "x" } }, { ifMetagenerationNotMatch: 2 }),
      412,
    );
    await file.delete({ ifGenerationMatch: Number(now.generation) });
    assert.equal((await file.exists())[0], false);
  });

  it("412 and 304 bodies and codes are GCS's", async () => {
    await bucket().file("raw").save("raw", { resumable: false });
    const [metadata] = await bucket().file("raw").getMetadata();
    const url = `${gcs.url}/storage/v1/b/objects/o/raw`;
    const failed = await fetch(`${url}?ifGenerationMatch=1`);
    assert.equal(failed.status, 412);
    const body = (await failed.json()) as {
      error: { code: number; errors: Array<{ reason: string }> };
    };
    assert.equal(body.error.code, 412);
    assert.equal(body.error.errors[0]?.reason, "conditionNotMet");
    const notModified = await fetch(`${url}?ifGenerationNotMatch=${metadata.generation}`);
    assert.equal(notModified.status, 304);
    const media = await fetch(`${gcs.url}/download/storage/v1/b/objects/o/raw?alt=media`);
    assert.equal(await media.text(), "raw");
    assert.equal(media.headers.get("x-goog-generation"), String(metadata.generation));
    assert.match(media.headers.get("x-goog-hash") ?? "", /^crc32c=.+,md5=.+$/);
    const missing = await fetch(`${gcs.url}/storage/v1/b/objects/o/nothing`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      error: {
        code: 404,
        message: "No such object: objects/nothing",
        errors: [
          { message: "No such object: objects/nothing", domain: "global", reason: "notFound" },
        ],
      },
    });
  });

  it("a declared hash that does not match the data is refused (400)", async () => {
    const res = await fetch(`${gcs.url}/upload/storage/v1/b/objects/o?uploadType=media&name=bad`, {
      method: "POST",
      headers: { "content-type": "text/plain", "x-goog-hash": "md5=AAAAAAAAAAAAAAAAAAAAAA==" },
      body: "data",
    });
    assert.equal(res.status, 400);
    assert.equal((await bucket().file("bad").exists())[0], false);
  });

  it("custom metadata: set, merge, remove; copy keeps it", async () => {
    const file = bucket().file("meta.txt");
    await file.save("m", {
      resumable: false,
      metadata: { metadata: { a: "1" }, cacheControl: "no-store" },
    });
    let [metadata] = await file.getMetadata();
    assert.deepEqual(metadata.metadata, { a: "1" });
    assert.equal(metadata.cacheControl, "no-store");
    [metadata] = await file.setMetadata({ metadata: { a: null, b: "2" } });
    assert.deepEqual(metadata.metadata, { b: "2" });
    const [copy] = await file.copy(storage.bucket("b-region").file("meta-copy.txt"));
    const [copied] = await copy.getMetadata();
    assert.deepEqual(copied.metadata, { b: "2" });
    assert.equal((await copy.download())[0].toString(), "m");
  });
});
