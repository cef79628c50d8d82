// The Vertex emulator's bucket-location check against the project's GCS emulator: a
// base_output_directory bucket must be a regional bucket in the job's region, else
// FAILED_PRECONDITION with Vertex's message. Also the act-as list given at start-up.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type GcsEmulator, startGcsEmulator } from "../../local/gcs/index.js";
import { startVertexEmulator, type VertexEmulator } from "../../local/vertex/index.js";
import { grpcClient, type JobServiceClient, PARENT, validJob } from "../helpers/vertex.js";

let gcs: GcsEmulator;
let emulator: VertexEmulator;
let client: JobServiceClient;
const ACCOUNT = "trainer@local-project.iam.gserviceaccount.com";

before(async () => {
  gcs = await startGcsEmulator({ port: 0 });
  for (const [name, location] of [
    ["vx-regional", "US-CENTRAL1"],
    ["vx-other-region", "EUROPE-WEST4"],
    ["vx-multi", "US"],
    ["vx-dual", "NAM4"],
  ]) {
    const response = await fetch(`${gcs.url}/storage/v1/b?project=local-project`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, location }),
    });
    assert.equal(response.status, 200, await response.text());
  }
  emulator = await startVertexEmulator({
    grpcPort: 0,
    restPort: 0,
    clock: { mode: "instant" },
    gcsEndpoint: gcs.url,
    actAs: [ACCOUNT],
  });
  client = grpcClient(emulator);
});

after(async () => {
  await client.close();
  await emulator.close();
  await gcs.close();
});

function jobWithOutput(uri: string, serviceAccount = ACCOUNT) {
  return validJob({
    jobSpec: {
      ...(validJob().jobSpec as object),
      serviceAccount,
      baseOutputDirectory: { outputUriPrefix: uri },
    },
  });
}

async function createError(
  customJob: Record<string, unknown>,
): Promise<{ code?: number; message: string }> {
  try {
    await client.createCustomJob({ parent: PARENT, customJob });
  } catch (err) {
    return err as { code?: number; message: string };
  }
  throw new Error("the job was created");
}

describe("base_output_directory bucket location", () => {
  test("a regional bucket in the job's region is accepted (instant clock: the job has finished)", async () => {
    const [job] = await client.createCustomJob({
      parent: PARENT,
      customJob: jobWithOutput("gs://vx-regional/runs/1"),
    });
    assert.equal(job.state, "JOB_STATE_QUEUED");
    const [done] = await client.getCustomJob({ name: job.name ?? "" });
    assert.equal(done.state, "JOB_STATE_SUCCEEDED");
  });

  for (const [bucket, location] of [
    ["vx-multi", "us"],
    ["vx-dual", "nam4"],
    ["vx-other-region", "europe-west4"],
  ]) {
    test(`a ${location} bucket fails FAILED_PRECONDITION with Vertex's message`, async () => {
      const uri = `gs://${bucket}/runs/1`;
      const error = await createError(jobWithOutput(uri));
      assert.equal(error.code, 9);
      assert.equal(
        error.message,
        `9 FAILED_PRECONDITION: The Cloud Storage bucket of \`${uri}\` is in location \`${location}\`. ` +
          "It must be in the same regional location as the service location `us-central1`.",
      );
    });
  }

  test("a missing bucket fails FAILED_PRECONDITION; nothing was created", async () => {
    const error = await createError(jobWithOutput("gs://vx-nowhere/out"));
    assert.equal(error.code, 9);
    assert.match(error.message, /gs:\/\/vx-nowhere\/out` does not exist/);
    const [jobs] = await client.listCustomJobs({
      parent: PARENT,
      filter: "display_name=conformance",
    });
    assert.equal(jobs.length, 1);
  });

  test("the act-as list given at start-up applies before the bucket is read", async () => {
    const error = await createError(
      jobWithOutput("gs://vx-multi/x", "other@local-project.iam.gserviceaccount.com"),
    );
    assert.equal(error.code, 3);
    assert.match(error.message, /You do not have permission to act as service_account: other@/);
  });
});
