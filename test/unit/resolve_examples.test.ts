/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B payload variables such as ${entity_name} are literal strings here. */
// Every example queue of the team kit (copied into test/fixtures/examples) renders with a
// matching example message; the seed's default config resolves unchanged (SPEC §3).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { idempotencyKeyFor } from "../../shared/resolve/ids.js";
import { resolveLaunch } from "../../shared/resolve/resolve.js";
import { parseLaunchMessage } from "../../shared/schemas/message.js";
import { parseQueueConfigText } from "../../shared/schemas/queue_config.js";
import { fixture } from "../helpers/resolve_fixtures.js";

type Obj = Record<string, unknown>;
const DEFAULTS = {
  project: "acme-ml",
  region: "us-central1",
  defaultServiceAccount: "vertex-jobs@acme-ml.iam.gserviceaccount.com",
};

function render(queue: string, messageFile: string, patch: Obj = {}) {
  const config = parseQueueConfigText(fixture("queues", `${queue}.yaml`), `${queue}.yaml`, queue);
  const message = parseLaunchMessage({
    ...JSON.parse(fixture("messages", messageFile)),
    queue,
    ...patch,
  });
  return resolveLaunch({
    queueName: queue,
    config,
    message,
    idempotencyKey: idempotencyKeyFor(message, {}, "message-1"),
    defaults: DEFAULTS,
  });
}
const pool = (r: { customJob: Obj }, i: number) => pools(r)[i] as Obj;
const pools = (r: { customJob: Obj }) =>
  (r.customJob.jobSpec as { workerPoolSpecs: Obj[] }).workerPoolSpecs;

describe("examples render", () => {
  it("seed-default + basic.json (the seed's default config, unchanged)", () => {
    const r = render("seed-default", "basic.json");
    assert.equal(r.parent, "projects/acme-ml/locations/us-central1");
    assert.deepEqual(pool(r, 0).machineSpec, { machineType: "n1-standard-4" });
    assert.equal((r.customJob.jobSpec as Obj).serviceAccount, DEFAULTS.defaultServiceAccount);
    assert.equal(r.customJob.displayName, "resnet50-baseline");
    assert.match(r.runId, /^[a-z0-9]{8}$/);
  });
  it("gpu-template + template-vars.json (template variables typed)", () => {
    const r = render("gpu-template", "template-vars.json");
    assert.deepEqual(pool(r, 0).machineSpec, {
      machineType: "n1-standard-16",
      acceleratorType: "NVIDIA_TESLA_T4",
      acceleratorCount: 4,
    });
    // The message's args come first, then the queue's ("{{gpus}}" and "${run_name}", which
    // is the run id here: the message has no name).
    assert.deepEqual((pool(r, 0).containerSpec as Obj).args, [
      "--epochs",
      "90",
      "--gpus",
      "4",
      "--run-name",
      "vit4gpu01",
    ]);
    assert.deepEqual((r.customJob.jobSpec as Obj).scheduling, {
      timeout: { seconds: 86400 },
      strategy: "SPOT",
    });
    assert.equal((r.customJob.labels as Obj).team, "vision");
  });
  it("gpu-template + basic.json (defaults; the queue's own args get the typed text)", () => {
    const r = render("gpu-template", "basic.json");
    assert.deepEqual((pool(r, 0).containerSpec as Obj).args, [
      "--gpus",
      "1",
      "--run-name",
      "resnet50-baseline",
    ]);
  });
  it("gpu-template + the webhook payload template, as W&B would fill it", () => {
    const filled = JSON.parse(
      fixture("messages", "wandb-webhook-payload-template.json")
        .replaceAll("${entity_name}", "acme")
        .replaceAll("${project_name}", "vision")
        .replaceAll("${artifact_collection_name}", "imagenet")
        .replaceAll("${artifact_version}", "v3")
        .replaceAll("${event_author}", "mira")
        .replaceAll("${artifact_version_string}", "acme/vision/imagenet:v3"),
    );
    const r = resolveLaunch({
      queueName: "gpu-template",
      config: parseQueueConfigText(
        fixture("queues", "gpu-template.yaml"),
        "gpu-template.yaml",
        "gpu-template",
      ),
      message: parseLaunchMessage(filled),
      idempotencyKey: "webhook-1",
      defaults: DEFAULTS,
    });
    assert.equal((pool(r, 0).machineSpec as Obj).acceleratorCount, 2);
    assert.equal(r.customJob.displayName, "retrain-imagenet-v3");
  });
  it("distributed-a100 + basic.json (two pools, macros in base_output_dir)", () => {
    const r = render("distributed-a100", "basic.json", { run_id: "dist01" });
    assert.equal(pools(r).length, 2);
    assert.equal(pool(r, 1).replicaCount, 3);
    assert.deepEqual((r.customJob.jobSpec as Obj).baseOutputDirectory, {
      outputUriPrefix: "gs://acme-vertex-staging-usc1/outputs/acme/vision/dist01",
    });
    assert.deepEqual((r.customJob.jobSpec as Obj).scheduling, {
      timeout: { seconds: 172800 },
      restartJobOnWorkerRestart: true,
    });
  });
  it("l4-flex-start + basic.json (FLEX_START in us-east4)", () => {
    const r = render("l4-flex-start", "basic.json");
    assert.equal(r.region, "us-east4");
    assert.deepEqual((r.customJob.jobSpec as Obj).scheduling, {
      timeout: { seconds: 28800 },
      strategy: "FLEX_START",
      maxWaitDuration: { seconds: 7200 },
    });
  });
  it("python-package + basic.json (python package spec in europe-west4)", () => {
    const r = render("python-package", "basic.json");
    const spec = pool(r, 0).pythonPackageSpec as Obj;
    assert.equal(spec.pythonModule, "trainer.task");
    assert.deepEqual(spec.args, ["--project", "vision"]);
    assert.deepEqual(r.imageUris, [
      "europe-docker.pkg.dev/vertex-ai/training/pytorch-xla.2-4.py310:latest",
    ]);
    assert.equal(r.stagingBucket, "acme-vertex-staging-euw4");
  });
});
