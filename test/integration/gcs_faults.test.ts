// GCS emulator controls: injected faults (status, count, rate, delay, dropped connection,
// per bucket), the deny list, the request log and reset, in-process and over HTTP.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Storage } from "@google-cloud/storage";
import { type GcsEmulator, startGcsEmulator } from "../../local/gcs/index.js";

let gcs: GcsEmulator;
let storage: Storage;
/** No client retries, so each fault is seen as the caller would see it. */
let noRetry: Storage;

before(async () => {
  gcs = await startGcsEmulator({ port: 0 });
  storage = new Storage({
    apiEndpoint: gcs.url,
    projectId: "local-project",
    retryOptions: { retryDelayMultiplier: 1.1, maxRetryDelay: 1, totalTimeout: 20 },
  });
  noRetry = new Storage({
    apiEndpoint: gcs.url,
    projectId: "local-project",
    retryOptions: { autoRetry: false },
  });
});
after(() => gcs.close());
beforeEach(async () => {
  gcs.control.reset();
  await storage.createBucket("state", { location: "us-central1" });
});

function status(err: unknown): number | string | undefined {
  const e = err as { code?: unknown; response?: { status?: number } };
  return typeof e.code === "number" || typeof e.code === "string" ? e.code : e.response?.status;
}

async function outcome(promise: Promise<unknown>): Promise<number | string> {
  try {
    await promise;
    return "ok";
  } catch (err) {
    return status(err) ?? String(err);
  }
}

describe("faults", () => {
  it("a 503 on objects.insert with count 1: the SDK retries a create-only write and succeeds", async () => {
    const fault = gcs.control.injectFault({ operation: "objects.insert", status: 503, count: 1 });
    await storage
      .bucket("state")
      .file("r.json")
      .save("{}", {
        resumable: false,
        preconditionOpts: { ifGenerationMatch: 0 },
      });
    assert.equal(gcs.control.faults()[0]?.hits, 1);
    const inserts = gcs.control.requests("objects.insert");
    assert.deepEqual(
      inserts.map((r) => r.status),
      [503, 200],
    );
    assert.equal(inserts[0]?.fault, fault.id);
    assert.equal(gcs.control.counts()["objects.insert"], 2);
  });

  it("count: the first N requests fail with the status and GCS's error body, then it is spent", async () => {
    gcs.control.injectFault({ operation: "buckets.get", status: 429, count: 2 });
    const bucket = noRetry.bucket("state");
    assert.equal(await outcome(bucket.getMetadata()), 429);
    const res = await fetch(`${gcs.url}/storage/v1/b/state`);
    assert.equal(res.status, 429);
    const body = (await res.json()) as { error: { errors: Array<{ reason: string }> } };
    assert.equal(body.error.errors[0]?.reason, "rateLimitExceeded");
    assert.equal(await outcome(bucket.getMetadata()), "ok");
  });

  it("status and message of any code; faults on other operations do not apply", async () => {
    gcs.control.injectFault({ operation: "objects.get", status: 500, message: "boom" });
    const bucket = noRetry.bucket("state");
    assert.equal(await outcome(bucket.getMetadata()), "ok");
    await storage.bucket("state").file("x").save("x", { resumable: false });
    try {
      await noRetry.bucket("state").file("x").getMetadata();
      assert.fail("expected 500");
    } catch (err) {
      assert.equal(status(err), 500);
      assert.equal((err as Error).message, "boom");
    }
  });

  it("rate: about that share of requests fail", async () => {
    gcs.control.injectFault({ operation: "buckets.get", status: 503, rate: 0.5 });
    const results: Array<number | string> = [];
    for (let i = 0; i < 40; i++) results.push(await outcome(noRetry.bucket("state").getMetadata()));
    const failed = results.filter((r) => r === 503).length;
    assert.ok(failed > 0 && failed < 40, `${failed}/40 failed`);
    assert.equal(results.filter((r) => r === "ok").length, 40 - failed);
  });

  it("delayMs alone slows a request down and then serves it", async () => {
    gcs.control.injectFault({ operation: "buckets.get", delayMs: 300, count: 1 });
    const start = Date.now();
    assert.equal(await outcome(noRetry.bucket("state").getMetadata()), "ok");
    assert.ok(Date.now() - start >= 290);
  });

  it("status 0 drops the connection", async () => {
    gcs.control.injectFault({ operation: "buckets.get", status: 0, count: 1 });
    const result = await outcome(noRetry.bucket("state").getMetadata());
    assert.notEqual(result, "ok");
    assert.equal(typeof result, "string", `a network error, got ${result}`);
    assert.equal(gcs.control.requests("buckets.get")[0]?.status, 0);
  });

  it('when "after": the write happens, then the fault answers (a lost answer)', async () => {
    gcs.control.injectFault({ operation: "objects.insert", status: 503, when: "after", count: 1 });
    const file = noRetry.bucket("state").file("after-503");
    assert.equal(await outcome(file.save("v1", { resumable: false })), 503);
    const [data] = await file.download();
    assert.equal(data.toString(), "v1", "the object was written all the same");
  });

  it('when "after" with status 0: the write happens, then the connection drops', async () => {
    gcs.control.injectFault({ operation: "objects.insert", status: 0, when: "after", count: 1 });
    const file = noRetry.bucket("state").file("after-drop");
    const result = await outcome(file.save("v1", { resumable: false }));
    assert.equal(typeof result, "string", `a network error, got ${result}`);
    const [exists] = await file.exists();
    assert.equal(exists, true);
  });

  it('when "before" (the default): nothing is written', async () => {
    gcs.control.injectFault({ operation: "objects.insert", status: 503, count: 1 });
    const file = noRetry.bucket("state").file("before-503");
    assert.equal(await outcome(file.save("v1", { resumable: false })), 503);
    assert.equal((await file.exists())[0], false);
  });

  it("a fault can be limited to one bucket, and removed", async () => {
    await storage.createBucket("other");
    const fault = gcs.control.injectFault({ operation: "*", status: 503, bucket: "other" });
    assert.equal(await outcome(noRetry.bucket("state").getMetadata()), "ok");
    assert.equal(await outcome(noRetry.bucket("other").getMetadata()), 503);
    assert.equal(
      await outcome(noRetry.bucket("other").file("f").save("f", { resumable: false })),
      503,
    );
    assert.equal(gcs.control.removeFault(fault.id), true);
    assert.equal(await outcome(noRetry.bucket("other").getMetadata()), "ok");
  });

  it("resumable data PUTs are their own operation", async () => {
    gcs.control.injectFault({ operation: "uploads.resumable", status: 503, count: 1 });
    const data = Buffer.alloc(1000, 1);
    // A fresh client: the SDK keeps per-instance retry state between calls.
    const fresh = new Storage({
      apiEndpoint: gcs.url,
      projectId: "local-project",
      retryOptions: { retryDelayMultiplier: 1.1, maxRetryDelay: 1, totalTimeout: 20 },
    });
    const file = fresh.bucket("state").file("big");
    await file.save(data, { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } });
    const puts = gcs.control.requests("uploads.resumable").map((r) => r.status);
    assert.equal(puts[0], 503);
    assert.equal(puts[puts.length - 1], 200);
    assert.ok((await file.download())[0].equals(data));
  });

  it("invalid faults are refused", () => {
    assert.throws(() =>
      gcs.control.injectFault({ operation: "objects.nope" as "objects.get", status: 503 }),
    );
    assert.throws(() => gcs.control.injectFault({ operation: "objects.get", status: 200 }));
    assert.throws(() =>
      gcs.control.injectFault({ operation: "objects.get", status: 503, rate: 0 }),
    );
    assert.throws(() => gcs.control.injectFault({ operation: "objects.get" }));
  });
});

describe("deny list", () => {
  it("answers 403 for a denied bucket and its objects, as GCS words it", async () => {
    await storage.bucket("state").file("o").save("o", { resumable: false });
    await storage.createBucket("open");
    gcs.control.deny("state");
    try {
      await noRetry.bucket("state").getMetadata();
      assert.fail("expected 403");
    } catch (err) {
      assert.equal(status(err), 403);
      assert.equal(
        (err as Error).message,
        "Anonymous caller does not have storage.buckets.get access to the Google Cloud Storage bucket. Permission 'storage.buckets.get' denied on resource (or it may not exist).",
      );
    }
    assert.equal(await outcome(noRetry.bucket("state").file("o").download()), 403);
    assert.equal(await outcome(noRetry.bucket("open").getMetadata()), "ok");
    gcs.control.setDenyList({
      buckets: ["state"],
      principal: "dispatch@p.iam.gserviceaccount.com",
    });
    const res = await fetch(`${gcs.url}/storage/v1/b/state/o/o`);
    const body = (await res.json()) as {
      error: { message: string; errors: Array<{ reason: string }> };
    };
    assert.match(
      body.error.message,
      /^dispatch@p.iam.gserviceaccount.com does not have storage.objects.get access/,
    );
    assert.equal(body.error.errors[0]?.reason, "forbidden");
    gcs.control.allow("state");
    assert.equal(await outcome(noRetry.bucket("state").getMetadata()), "ok");
  });
});

describe("request log and reset", () => {
  it("logs every request with its operation, names and status, and counts per operation", async () => {
    await storage.bucket("state").file("a/b").save("x", { resumable: false });
    await storage.bucket("state").file("a/b").download();
    await outcome(storage.bucket("state").file("missing").getMetadata());
    const gets = gcs.control.requests("objects.get");
    assert.deepEqual(
      gets.map((r) => [r.bucket, r.object, r.status]),
      [
        ["state", "a/b", 200],
        ["state", "missing", 404],
      ],
    );
    assert.deepEqual(gcs.control.counts(), {
      "buckets.insert": 1,
      "objects.insert": 1,
      "objects.get": 2,
    });
  });

  it("reset forgets data, faults, denials and the log", async () => {
    gcs.control.injectFault({ operation: "buckets.get", status: 503 });
    gcs.control.deny("state");
    gcs.control.reset();
    assert.deepEqual(gcs.control.faults(), []);
    assert.deepEqual(gcs.control.denyList().buckets, []);
    assert.deepEqual(gcs.control.requests(), []);
    assert.equal(await outcome(noRetry.bucket("state").getMetadata()), 404);
  });
});

describe("control API over HTTP", () => {
  const control = (path: string, method = "GET", body?: unknown) =>
    fetch(`${gcs.url}/emulator/v1/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it("faults, deny list, requests and reset", async () => {
    assert.deepEqual(await (await control("health")).json(), { ok: true });
    const created = await control("faults", "POST", {
      operation: "buckets.get",
      status: 503,
      count: 1,
    });
    assert.equal(created.status, 200);
    const fault = (await created.json()) as { id: string; hits: number };
    assert.equal(fault.hits, 0);
    assert.equal(await outcome(noRetry.bucket("state").getMetadata()), 503);
    const listed = (await (await control("faults")).json()) as {
      faults: Array<{ id: string; hits: number }>;
    };
    assert.deepEqual(
      listed.faults.map((f) => [f.id, f.hits]),
      [[fault.id, 1]],
    );
    assert.equal((await control(`faults/${fault.id}`, "DELETE")).status, 200);
    assert.equal((await control("faults/nope", "DELETE")).status, 404);
    assert.equal((await control("faults", "POST", { operation: "x", status: 503 })).status, 400);

    assert.deepEqual(await (await control("deny", "PUT", { buckets: ["state"] })).json(), {
      buckets: ["state"],
      principal: "Anonymous caller",
    });
    assert.equal(await outcome(noRetry.bucket("state").getMetadata()), 403);
    await control("deny/state", "DELETE");
    await control("deny", "POST", { bucket: "elsewhere" });
    assert.deepEqual(((await (await control("deny")).json()) as { buckets: string[] }).buckets, [
      "elsewhere",
    ]);

    const log = (await (await control("requests?operation=buckets.get")).json()) as {
      requests: Array<{ status: number }>;
      counts: Record<string, number>;
    };
    assert.deepEqual(
      log.requests.map((r) => r.status),
      [503, 403],
    );
    assert.equal(log.counts["buckets.get"], 2);
    await control("requests", "DELETE");
    assert.deepEqual(
      ((await (await control("requests")).json()) as { requests: unknown[] }).requests,
      [],
    );

    assert.equal((await control("reset", "POST")).status, 200);
    assert.equal(await outcome(noRetry.bucket("state").getMetadata()), 404);
    assert.equal((await control("nothing-here")).status, 404);
  });
});
