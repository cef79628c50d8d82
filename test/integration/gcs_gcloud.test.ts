// GCS emulator conformance, driven by the real `gcloud storage` through
// api_endpoint_overrides/storage = EMULATOR/storage/v1/ with credentials disabled.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type GcsEmulator, startGcsEmulator } from "../../local/gcs/index.js";
import { type Gcloud, gcloudMissing, makeGcloud } from "../helpers/gcloud.js";

const missing = gcloudMissing();
if (missing) console.warn(`\n!!! SKIPPING the gcloud storage conformance tests: ${missing}\n`);

/** Skipped tests are counted as skipped in the summary (a skipped suite would count none). */
const skip = { skip: missing ?? false };

describe("gcloud storage against the GCS emulator", () => {
  let gcs: GcsEmulator;
  let gcloud: Gcloud;
  let dir: string;

  before(async () => {
    if (missing) return;
    gcs = await startGcsEmulator({ port: 0 });
    gcloud = makeGcloud({ storage: `${gcs.url}/storage/v1/` });
    dir = mkdtempSync(join(tmpdir(), "vd-gcs-gcloud-"));
  });
  after(async () => {
    gcloud?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await gcs?.close();
  });

  async function ok(args: string[]): Promise<string> {
    const result = await gcloud.run(args);
    assert.equal(result.code, 0, `gcloud ${args.join(" ")}\n${result.stderr}`);
    return result.stdout;
  }

  it(
    "buckets create --location, then describe shows location and location type",
    skip,
    async () => {
      await ok(["storage", "buckets", "create", "gs://gc-regional", "--location=us-central1"]);
      await ok(["storage", "buckets", "create", "gs://gc-dual", "--location=nam4"]);
      const regional = JSON.parse(
        await ok(["storage", "buckets", "describe", "gs://gc-regional", "--format=json"]),
      );
      assert.equal(regional.location, "US-CENTRAL1");
      assert.equal(regional.location_type, "region");
      const dual = JSON.parse(
        await ok(["storage", "buckets", "describe", "gs://gc-dual", "--format=json"]),
      );
      assert.equal(dual.location, "NAM4");
      assert.equal(dual.location_type, "dual-region");
      const again = await gcloud.run([
        "storage",
        "buckets",
        "create",
        "gs://gc-regional",
        "--location=us-central1",
      ]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /409/);
    },
  );

  it("cp up, ls, cat, cp down, cp between objects, rm", skip, async () => {
    const local = join(dir, "hello.txt");
    writeFileSync(local, "hello from gcloud\n");
    await ok(["storage", "cp", local, "gs://gc-regional/dir/hello.txt"]);
    assert.equal(await ok(["storage", "ls", "gs://gc-regional"]), "gs://gc-regional/dir/\n");
    assert.equal(
      await ok(["storage", "ls", "gs://gc-regional/dir/"]),
      "gs://gc-regional/dir/hello.txt\n",
    );
    assert.equal(
      await ok(["storage", "cat", "gs://gc-regional/dir/hello.txt"]),
      "hello from gcloud\n",
    );
    const down = join(dir, "down.txt");
    await ok(["storage", "cp", "gs://gc-regional/dir/hello.txt", down]);
    assert.equal(readFileSync(down, "utf8"), "hello from gcloud\n");
    await ok(["storage", "cp", "gs://gc-regional/dir/hello.txt", "gs://gc-dual/copy.txt"]);
    assert.equal(await ok(["storage", "cat", "gs://gc-dual/copy.txt"]), "hello from gcloud\n");
    await ok(["storage", "rm", "gs://gc-regional/dir/hello.txt"]);
    assert.equal(await ok(["storage", "ls", "gs://gc-regional"]), "");
  });

  it(
    "a large file goes up resumable and comes back identical; rm -r removes the bucket",
    skip,
    async () => {
      const big = Buffer.alloc(9 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big[i] = i % 256;
      writeFileSync(join(dir, "big.bin"), big);
      await ok(["storage", "cp", join(dir, "big.bin"), "gs://gc-dual/big.bin"]);
      assert.ok(
        gcs.control.requests("uploads.resumable").length > 0,
        "gcloud used a resumable upload",
      );
      await ok(["storage", "cp", "gs://gc-dual/big.bin", join(dir, "big-back.bin")]);
      assert.ok(readFileSync(join(dir, "big-back.bin")).equals(big));
      await ok(["storage", "rm", "-r", "gs://gc-dual"]);
      const gone = await gcloud.run(["storage", "buckets", "describe", "gs://gc-dual"]);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /404|not found/);
    },
  );

  it("ls lists the project's buckets", skip, async () => {
    assert.equal(await ok(["storage", "ls"]), "gs://gc-regional/\n");
  });
});
