/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B macros such as ${project_name} are literal strings here. */
// W&B agent parity (issue 12, SPEC §3/§4): the five cases where a config that runs on the
// W&B agent's Vertex runner was rejected or changed here. Each renders the config and
// compares the container's argv/env with what the agent produces for the same launch.
// The agent's side is written out from its code (wandb sdk/launch: runner/vertex_runner.py,
// _project_spec.py): command = entry point + launch args, the queue's args kept after them;
// target_project lower-cased; the agent's env appended to the queue's env; staging_bucket
// handed to aiplatform.init, which adds gs://.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { idempotencyKeyFor } from "../../shared/resolve/ids.js";
import { resolveLaunch } from "../../shared/resolve/resolve.js";
import { parseLaunchMessage } from "../../shared/schemas/message.js";
import { parseQueueConfig, parseQueueConfigText } from "../../shared/schemas/queue_config.js";
import {
  assertIssue,
  baseMessage,
  baseQueue,
  caught,
  fixture,
  resolveRaw,
  set,
} from "../helpers/resolve_fixtures.js";

type Obj = Record<string, unknown>;
type Env = Array<{ name: string; value: string }>;
const pools = (r: { customJob: Obj }) =>
  (r.customJob.jobSpec as { workerPoolSpecs: Obj[] }).workerPoolSpecs;
const container = (r: { customJob: Obj }, i = 0) =>
  (pools(r)[i] as Obj).containerSpec as { command?: string[]; args?: string[]; env: Env };
/** What the container runs: Vertex's command (the image ENTRYPOINT override), then args. */
const argv = (r: { customJob: Obj }, i = 0) => [
  ...(container(r, i).command ?? []),
  ...(container(r, i).args ?? []),
];
const envValues = (r: { customJob: Obj }, name: string, i = 0) =>
  container(r, i)
    .env.filter((v) => v.name === name)
    .map((v) => v.value);

describe("parity 1: launch args come first, then the queue's args, never lost", () => {
  it("gpu-template + template-vars.json runs the agent's argv", () => {
    const config = parseQueueConfigText(
      fixture("queues", "gpu-template.yaml"),
      "gpu-template.yaml",
      "gpu-template",
    );
    const message = parseLaunchMessage({
      ...JSON.parse(fixture("messages", "template-vars.json")),
      name: "vit-4gpu",
    });
    const r = resolveLaunch({
      queueName: "gpu-template",
      config,
      message,
      idempotencyKey: idempotencyKeyFor(message, {}, "m-1"),
      defaults: { project: "acme-ml" },
    });
    // The agent: command = entry_point + launch args; container_spec.args (the queue's) kept.
    const agentCommand = ["python", "-m", "train", "--epochs", "90"];
    const agentArgs = ["--gpus", "4", "--run-name", "vit-4gpu"];
    assert.deepEqual(argv(r), [...agentCommand, ...agentArgs]);
    // Here the entry point alone is the command, so the image's ENTRYPOINT semantics match Vertex's.
    assert.deepEqual(container(r).command, ["python", "-m", "train"]);
    assert.deepEqual(container(r).args, [
      "--epochs",
      "90",
      "--gpus",
      "4",
      "--run-name",
      "vit-4gpu",
    ]);
  });
  it("without an entry point the queue's command stays, followed by launch args then queue args", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.command", [
      "python",
      "train.py",
    ]);
    set(q, "spec.worker_pool_specs[0].container_spec.args", ["--data", "gs://d"]);
    const r = resolveRaw(q, { ...baseMessage(), args: ["--lr", "0.1"] });
    assert.deepEqual(argv(r), ["python", "train.py", "--lr", "0.1", "--data", "gs://d"]);
  });
});

describe("parity 2: the W&B project is lower-cased, as LaunchProject does", () => {
  const q = () => {
    const queue = set(baseQueue(), "spec.labels", { project: "${project_name}" });
    return set(queue, "spec.base_output_dir", "gs://acme-out/${project_name}/${run_id}");
  };
  it("in ${project_name}, WANDB_PROJECT, labels and paths", () => {
    const r = resolveRaw(q(), { ...baseMessage(), project: "Vision-Team" });
    // The agent: target_project = "vision-team" for every one of these.
    assert.deepEqual(envValues(r, "WANDB_PROJECT"), ["vision-team"]);
    const labels = r.customJob.labels as Obj;
    assert.equal(labels.project, "vision-team");
    assert.equal(labels["wandb-project"], "vision-team");
    assert.deepEqual((r.customJob.jobSpec as Obj).baseOutputDirectory, {
      outputUriPrefix: "gs://acme-out/vision-team/run1",
    });
  });
  it("the entity keeps its case (the agent does not lower it)", () => {
    const r = resolveRaw(q(), { ...baseMessage(), entity: "Acme", project: "Vision" });
    assert.deepEqual(envValues(r, "WANDB_ENTITY"), ["Acme"]);
  });
});

describe("parity 3: the queue's env may set the defaults WANDB_BASE_URL, WANDB_DOCKER, WANDB_NAME, WANDB_USERNAME", () => {
  const queueEnv = [
    { name: "WANDB_BASE_URL", value: "https://wandb.acme.internal" },
    { name: "WANDB_DOCKER", value: "acme/trainer" },
    { name: "WANDB_NAME", value: "nightly" },
    { name: "WANDB_USERNAME", value: "ci-bot" },
  ];
  it("the queue's value is kept, once, and the dispatcher's is not added", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.env", queueEnv);
    const r = resolveRaw(q, { ...baseMessage(), name: "run-name", author: "mira" });
    // A dedicated W&B server: the agent is configured with that server, so its own
    // WANDB_BASE_URL (appended after the queue's) carries the same value the queue sets.
    assert.deepEqual(envValues(r, "WANDB_BASE_URL"), ["https://wandb.acme.internal"]);
    assert.deepEqual(envValues(r, "WANDB_DOCKER"), ["acme/trainer"]);
    assert.deepEqual(envValues(r, "WANDB_NAME"), ["nightly"]);
    assert.deepEqual(envValues(r, "WANDB_USERNAME"), ["ci-bot"]);
    const names = container(r).env.map((v) => v.name);
    assert.equal(new Set(names).size, names.length, `duplicate names: ${names.join(", ")}`);
  });
  it("any other injected name in the queue's env is an error that names it and says how to fix", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.env", [
      { name: "WANDB_PROJECT", value: "other" },
    ]);
    const err = caught(() => resolveRaw(q, baseMessage()));
    assert.equal(err.kind, "invalid_config");
    assertIssue(
      err,
      "spec.worker_pool_specs[0].container_spec.env",
      /WANDB_PROJECT is set twice .*vertex-dispatch injects WANDB_PROJECT itself, so remove it from the queue config \(the queue's container env may set only WANDB_BASE_URL, WANDB_DOCKER, WANDB_NAME, WANDB_USERNAME\)/,
    );
  });
  it("the message's env may not set them: an error on the message", () => {
    const err = caught(() =>
      resolveRaw(baseQueue(), { ...baseMessage(), env: { WANDB_BASE_URL: "https://x" } }),
    );
    assert.equal(err.kind, "invalid_message");
    assertIssue(err, "message.env.WANDB_BASE_URL", /remove it from the launch message/);
  });
});

describe("parity 4: a bare staging bucket name is gs://NAME, as the Vertex SDK reads it", () => {
  it("my-bucket is accepted and used as gs://my-bucket", () => {
    const r = resolveRaw(set(baseQueue(), "spec.staging_bucket", "acme-staging"), baseMessage());
    assert.equal(r.stagingBucket, "acme-staging");
    assert.deepEqual((r.customJob.jobSpec as Obj).baseOutputDirectory, {
      outputUriPrefix: "gs://acme-staging/run1",
    });
  });
  it("a bare name with a path keeps the path", () => {
    const r = resolveRaw(
      set(baseQueue(), "spec.staging_bucket", "acme-staging/jobs/"),
      baseMessage(),
    );
    assert.equal(r.stagingBucket, "acme-staging");
    assert.deepEqual((r.customJob.jobSpec as Obj).baseOutputDirectory, {
      outputUriPrefix: "gs://acme-staging/jobs/run1",
    });
  });
  it("anything else is still an error naming the field and both accepted forms", () => {
    const err = caught(() =>
      parseQueueConfig(set(baseQueue(), "spec.staging_bucket", "s3://b"), "q"),
    );
    assertIssue(err, "spec.staging_bucket", /"gs:\/\/bucket\[\/path\]" or a bare bucket name/);
  });
});

describe("parity 5: an empty {} worker pool after the first is an empty WorkerPoolSpec", () => {
  const reductionServer = {
    machine_spec: { machine_type: "n1-highcpu-16" },
    replica_count: 2,
    container_spec: {
      image_uri: "us-docker.pkg.dev/vertex-ai-restricted/training/reductionserver:latest",
    },
  };
  const withPlaceholder = () => {
    const q = baseQueue();
    const list = (q.spec as { worker_pool_specs: unknown[] }).worker_pool_specs;
    list.push({}, structuredClone(reductionServer));
    return q;
  };
  it("is sent as {} at its position; the pools around it are translated as usual", () => {
    const r = resolveRaw(withPlaceholder(), { ...baseMessage(), args: ["--x"] });
    const sent = pools(r);
    assert.equal(sent.length, 3);
    assert.deepEqual(sent[1], {});
    assert.equal((sent[2] as Obj).replicaCount, 2);
    assert.deepEqual(container(r, 2).args, ["--x"]);
    assert.deepEqual(r.imageUris.sort(), [
      "us-central1-docker.pkg.dev/acme-ml/train/img:1",
      "us-docker.pkg.dev/vertex-ai-restricted/training/reductionserver:latest",
    ]);
  });
  it("an empty first pool is an error that says why", () => {
    const q = baseQueue();
    const list = (q.spec as { worker_pool_specs: unknown[] }).worker_pool_specs;
    list.unshift({});
    const err = caught(() => parseQueueConfig(q, "q"));
    assertIssue(
      err,
      "spec.worker_pool_specs[0]",
      /the first worker pool \(the chief\) cannot be empty/,
    );
  });
  it("a pool that is not empty is checked as a pool (not reported as unknown keys of {})", () => {
    const q = withPlaceholder();
    set(q, "spec.worker_pool_specs[2].machine_spec", undefined);
    set(q, "spec.worker_pool_specs[2].replica_cont", 1);
    const err = caught(() => parseQueueConfig(q, "q"));
    assert.deepEqual(err.issues.map((i) => i.path).sort(), [
      "spec.worker_pool_specs[2].machine_spec",
      "spec.worker_pool_specs[2].replica_cont",
    ]);
    assertIssue(err, "spec.worker_pool_specs[2].machine_spec", /required/);
    assertIssue(err, "spec.worker_pool_specs[2].replica_cont", /did you mean "replica_count"/);
  });
  it("a message's resource_args may add the placeholder too", () => {
    const q = set(baseQueue(), "allow_resource_overrides", true);
    const list = structuredClone((q.spec as { worker_pool_specs: unknown[] }).worker_pool_specs);
    list.push({}, structuredClone(reductionServer));
    const r = resolveRaw(q, {
      ...baseMessage(),
      resource_args: { "gcp-vertex": { spec: { worker_pool_specs: list } } },
    });
    assert.deepEqual(pools(r)[1], {});
  });
});
