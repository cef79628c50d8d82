// Google's sample pattern for creating a CustomJob (the anchor of SPEC §12's cold start):
// require the whole package, make a v1.JobServiceClient, call createCustomJob once. The
// only changes from the sample are the emulator endpoint (plaintext gRPC) and that it
// prints one line when the job exists, which is where the bench stops its clock.
const { credentials } = require("@grpc/grpc-js");
const aiplatform = require("@google-cloud/aiplatform");

async function main() {
  const [host, port] = process.env.VERTEX_ENDPOINT.split(":");
  const client = new aiplatform.v1.JobServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: credentials.createInsecure(),
  });
  const parent = `projects/${process.env.GOOGLE_CLOUD_PROJECT}/locations/${process.env.VERTEX_REGION}`;
  const [job] = await client.createCustomJob({
    parent,
    customJob: JSON.parse(process.env.BENCH_CUSTOM_JOB),
  });
  process.stdout.write(`created ${job.name}\n`);
  await client.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
