// The resolver's output for W&B agent parity cases, sent as production sends it (the
// Node client over gRPC) to the Vertex emulator: an empty `{}` worker pool after the
// first reaches Vertex as an empty WorkerPoolSpec and is accepted, as real Vertex
// accepts it (a placeholder position, e.g. before a reduction-server pool).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { VertexEmulator } from "../../local/vertex/index.js";
import { baseMessage, baseQueue, resolveRaw } from "../helpers/resolve_fixtures.js";
import { type JobServiceClient, rest, withVertexEmulator } from "../helpers/vertex.js";

let emulator: VertexEmulator;
let client: JobServiceClient;

withVertexEmulator((e, c) => {
  emulator = e;
  client = c;
});

function withPlaceholderPool(): Record<string, unknown> {
  const q = baseQueue();
  (q.spec as { worker_pool_specs: unknown[] }).worker_pool_specs.push(
    {},
    {
      machine_spec: { machine_type: "n1-highcpu-16" },
      replica_count: 2,
      container_spec: {
        image_uri: "us-docker.pkg.dev/vertex-ai-restricted/training/reductionserver:latest",
      },
    },
  );
  (q.spec as Record<string, unknown>).staging_bucket = "acme-staging";
  return q;
}

describe("parity requests on the Vertex emulator", () => {
  it("an empty {} pool after the first is accepted and kept empty; a bare staging bucket became gs://", async () => {
    const resolved = resolveRaw(
      withPlaceholderPool(),
      { ...baseMessage(), project: "Vision" },
      {
        project: "local-project",
        region: "us-central1",
      },
    );
    const [job] = await client.createCustomJob({
      parent: resolved.parent,
      customJob: resolved.customJob,
    });
    assert.ok(job.name, "the emulator returned no job name");
    const stored = await rest(emulator, "GET", `/v1/${job.name}`);
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    const spec = stored.body.jobSpec as {
      workerPoolSpecs: Record<string, unknown>[];
      baseOutputDirectory: { outputUriPrefix: string };
    };
    assert.equal(spec.workerPoolSpecs.length, 3);
    assert.deepEqual(spec.workerPoolSpecs[1], {});
    assert.equal(spec.workerPoolSpecs[2]?.replicaCount, "2");
    assert.equal(spec.baseOutputDirectory.outputUriPrefix, "gs://acme-staging/run1");
    assert.equal((stored.body.labels as Record<string, string>)["wandb-project"], "vision");
  });
});
