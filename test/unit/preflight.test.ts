import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DispatchError } from "../../shared/errors.js";
import {
  type BucketInfo,
  cachedBucketInfo,
  checkBucketRegion,
  checkBuckets,
  imageWarnings,
} from "../../shared/preflight.js";

function regionError(info: BucketInfo, region = "us-central1"): DispatchError {
  try {
    checkBucketRegion("b", info, region, "staging bucket");
  } catch (err) {
    assert.ok(err instanceof DispatchError);
    return err;
  }
  assert.fail("expected a region error");
}

describe("bucket region", () => {
  it("passes a regional bucket in the Vertex region, case-insensitively", () => {
    checkBucketRegion(
      "b",
      { location: "US-CENTRAL1", locationType: "region" },
      "us-central1",
      "staging bucket",
    );
  });

  const failing: Array<[string, BucketInfo, RegExp]> = [
    [
      "a regional bucket elsewhere",
      { location: "EUROPE-WEST4", locationType: "region" },
      /EUROPE-WEST4 \(region\), a regional bucket in another region/,
    ],
    [
      "a multi-region bucket",
      { location: "US", locationType: "multi-region" },
      /location US \(multi-region\)/,
    ],
    [
      "a dual-region bucket",
      { location: "NAM4", locationType: "dual-region" },
      /location NAM4 \(dual-region\)/,
    ],
    ["a custom dual-region bucket", { location: "US", locationType: "dual-region" }, /dual-region/],
  ];
  for (const [name, info, message] of failing) {
    it(`fails ${name}, saying what to do`, () => {
      const err = regionError(info);
      assert.equal(err.kind, "preflight_failed");
      assert.equal(err.retryable, false);
      assert.match(err.message, message);
      assert.match(err.message, /gs:\/\/b/);
      assert.match(err.message, /us-central1/);
      assert.match(
        err.message,
        /gcloud storage buckets create gs:\/\/BUCKET --location=us-central1/,
      );
    });
  }

  it("reads each bucket once and stops at the first failure", async () => {
    const reads: string[] = [];
    const info: Record<string, BucketInfo> = {
      a: { location: "US-CENTRAL1", locationType: "region" },
      c: { location: "US", locationType: "multi-region" },
    };
    await assert.rejects(
      checkBuckets(
        [
          { bucket: "a", role: "staging bucket" },
          { bucket: "a", role: "output bucket" },
          { bucket: "c", role: "output bucket" },
        ],
        "us-central1",
        async (b) => {
          reads.push(b);
          const i = info[b];
          if (!i) throw new Error("unexpected");
          return i;
        },
      ),
      /output bucket gs:\/\/c/,
    );
    assert.deepEqual(reads, ["a", "c"]);
  });

  it("caches metadata for the TTL but not failures", async () => {
    let t = 0;
    let calls = 0;
    let fail = true;
    const read = cachedBucketInfo(
      async () => {
        calls++;
        if (fail) throw new Error("503");
        return { location: "US-CENTRAL1", locationType: "region" };
      },
      1000,
      () => t,
    );
    await assert.rejects(read("b"));
    fail = false;
    await read("b");
    await read("b");
    assert.equal(calls, 2);
    t = 1001;
    await read("b");
    assert.equal(calls, 3);
  });
});

describe("image warnings", () => {
  const cases: Array<[string, string, number, RegExp?]> = [
    ["Artifact Registry, same region", "us-central1-docker.pkg.dev/p/r/i:1", 0],
    ["Artifact Registry multi-region on its continent", "us-docker.pkg.dev/p/r/i:1", 0],
    ["Container Registry", "gcr.io/p/i:1", 0],
    ["regional Container Registry", "eu.gcr.io/p/i:1", 0],
    [
      "Artifact Registry in another region",
      "europe-west4-docker.pkg.dev/p/r/i",
      1,
      /cross regions/,
    ],
    [
      "Artifact Registry multi-region on another continent",
      "europe-docker.pkg.dev/p/r/i",
      1,
      /cross regions/,
    ],
    ["Docker Hub", "pytorch/pytorch:2.4", 1, /must be public/],
    ["another registry", "ghcr.io/acme/train:1", 1, /private registries outside Google Cloud/],
  ];
  for (const [name, uri, count, message] of cases) {
    it(name, () => {
      const warnings = imageWarnings([uri], "us-central1");
      assert.equal(warnings.length, count, JSON.stringify(warnings));
      if (message) assert.match(warnings[0] ?? "", message);
    });
  }
});
