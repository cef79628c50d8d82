// The GCS emulator's writes-per-object-per-second counter: a clock passed in, and the
// emulator itself over the official SDK (a create, a metadata patch and a delete each count).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Storage } from "@google-cloud/storage";
import { startGcsEmulator } from "../../local/gcs/index.js";
import { WriteRates } from "../../local/gcs/write_rate.js";

test("the busiest second of each object is kept, busiest object first", () => {
  let now = 10_000;
  const rates = new WriteRates(() => now);
  rates.count("b", "slots/q.json");
  rates.count("b", "slots/q.json");
  rates.count("b", "launches/q/r.json");
  now += 999;
  rates.count("b", "slots/q.json");
  now += 1;
  rates.count("b", "slots/q.json");
  const report = rates.report();
  assert.equal(report.maxPerObjectPerSecond, 3, JSON.stringify(report));
  assert.equal(report.writes, 5);
  assert.equal(report.objects, 2);
  assert.deepEqual(report.busiest[0], {
    object: "b/slots/q.json",
    second: "1970-01-01T00:00:10Z",
    writes: 3,
    total: 4,
  });
  rates.clear();
  assert.equal(rates.report().maxPerObjectPerSecond, 0);
});

test("the emulator counts writes that took effect, not refused ones", async () => {
  process.env.METADATA_SERVER_DETECTION = "none";
  const gcs = await startGcsEmulator({ port: 0 });
  try {
    const storage = new Storage({ projectId: "p", apiEndpoint: gcs.url });
    await storage.createBucket("rates", { location: "us-central1" });
    const file = storage.bucket("rates").file("o.json");
    await file.save("{}", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    await assert.rejects(
      file.save("{}", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
      (err: { code?: number }) => err.code === 412,
    );
    await file.setMetadata({ metadata: { a: "1" } });
    await file.delete();
    const report = gcs.control.writeRates();
    assert.equal(report.objects, 1, JSON.stringify(report));
    assert.equal(report.busiest[0]?.total, 3, JSON.stringify(report));
    const http = await fetch(`${gcs.url}/emulator/v1/write-rates?top=1`);
    assert.equal(((await http.json()) as { writes: number }).writes, 3);
  } finally {
    await gcs.close();
  }
});
