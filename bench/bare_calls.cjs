// The calls a dispatch cannot avoid, each timed alone (SPEC §12 warm dispatch anchor):
// create a launch-record-sized object create-only, CreateCustomJob, update the object
// generation-matched. Warm clients in their own process (not the bench's, which hosts the
// emulators), so the anchor is measured the way the dispatch process is. Prints one JSON
// line: the per-call samples in ms.
const { performance } = require("node:perf_hooks");
const { credentials } = require("@grpc/grpc-js");
const { JobServiceClient } = require("@google-cloud/aiplatform/build/src/v1/job_service_client.js");
const { Storage } = require("@google-cloud/storage");

const env = process.env;
const rounds = Number(env.BENCH_ROUNDS);
const record = env.BENCH_RECORD;
const customJob = JSON.parse(env.BENCH_CUSTOM_JOB);
const parent = `projects/${env.GOOGLE_CLOUD_PROJECT}/locations/${env.VERTEX_REGION}`;

async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

async function round(i, bucket, vertex, out) {
  const file = bucket.file(`bench-bare/${process.pid}-${i}.json`);
  const [createMs] = await timed(() =>
    file.save(record, { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
  );
  const job = { ...customJob, displayName: `bare-${process.pid}-${i}` };
  const [vertexMs] = await timed(() =>
    vertex.createCustomJob({ parent, customJob: job }, { retry: null, timeout: 30000 }),
  );
  const generation = Number(file.metadata.generation);
  const [updateMs] = await timed(() =>
    file.save(record, { resumable: false, preconditionOpts: { ifGenerationMatch: generation } }),
  );
  out.record_create.push(createMs);
  out.create_custom_job.push(vertexMs);
  out.record_update.push(updateMs);
}

async function main() {
  const [host, port] = env.VERTEX_ENDPOINT.split(":");
  const vertex = new JobServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: credentials.createInsecure(),
  });
  const storage = new Storage({
    projectId: env.GOOGLE_CLOUD_PROJECT,
    apiEndpoint: env.GCS_ENDPOINT,
  });
  const bucket = storage.bucket(env.STATE_BUCKET);
  const out = { record_create: [], create_custom_job: [], record_update: [] };
  await round(-1, bucket, vertex, { record_create: [], create_custom_job: [], record_update: [] });
  for (let i = 0; i < rounds; i++) await round(i, bucket, vertex, out);
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await vertex.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
