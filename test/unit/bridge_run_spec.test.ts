import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runSpecToMessage } from "../../shared/bridge/run_spec.js";
import { DispatchError } from "../../shared/errors.js";
import { runIdFor } from "../../shared/resolve/ids.js";
import { parseLaunchMessage } from "../../shared/schemas/message.js";

const ITEM = "UnVuUXVldWVJdGVtOjQy";

/** A runSpec as `wandb launch --queue` pushes it and W&B returns it from popFromRunQueue. */
const pushed = {
  entity: "acme",
  project: "vision",
  job: "acme/vision/train-resnet:v3",
  name: "resnet50",
  author: "mira",
  docker: { docker_image: "us-central1-docker.pkg.dev/acme-ml/train/resnet:1" },
  git: {},
  overrides: {
    entry_point: ["python", "train.py"],
    args: ["--lr", "0.1"],
    run_config: { lr: 0.1 },
  },
  resource: "gcp-vertex",
  resource_args: {
    "gcp-vertex": {
      spec: { worker_pool_specs: [{ machine_spec: { machine_type: "n1-standard-8" } }] },
      run: { restart_job_on_worker_restart: false },
    },
  },
  _wandb_api_key: "user-key-must-never-travel",
};

function invalid(runSpec: unknown): DispatchError {
  try {
    runSpecToMessage(ITEM, "gpu", runSpec);
  } catch (err) {
    assert.ok(err instanceof DispatchError);
    assert.equal(err.kind, "invalid_message");
    return err;
  }
  assert.fail("expected runSpecToMessage to throw");
}

describe("runSpecToMessage", () => {
  it("carries every field the agent uses, the merged resource args and the trace id", () => {
    const m = runSpecToMessage(ITEM, "gpu", pushed);
    assert.equal(m.queue, "gpu");
    assert.equal(m.entity, "acme");
    assert.equal(m.project, "vision");
    assert.equal(m.job, "acme/vision/train-resnet:v3");
    assert.equal(m.name, "resnet50");
    assert.equal(m.author, "mira");
    assert.equal(m.image_uri, "us-central1-docker.pkg.dev/acme-ml/train/resnet:1");
    assert.deepEqual(m.entry_point, ["python", "train.py"]);
    assert.deepEqual(m.args, ["--lr", "0.1"]);
    assert.deepEqual(m.run_config, { lr: 0.1 });
    assert.deepEqual(m.resource_args, { "gcp-vertex": pushed.resource_args["gcp-vertex"] });
    assert.deepEqual(m.env, { WANDB_LAUNCH_TRACE_ID: ITEM });
    assert.ok(!JSON.stringify(m).includes("user-key-must-never-travel"));
    // A valid message the dispatcher accepts as is.
    assert.deepEqual(parseLaunchMessage(JSON.parse(JSON.stringify(m))), m);
  });

  it("derives the run id from the item id, as the dispatcher would from the idempotency key", () => {
    const spec = { entity: "acme", project: "vision", docker: { docker_image: "img" } };
    const a = runSpecToMessage(ITEM, "gpu", spec);
    const b = runSpecToMessage(ITEM, "gpu", spec);
    const other = runSpecToMessage("UnVuUXVldWVJdGVtOjQz", "gpu", spec);
    assert.match(a.run_id ?? "", /^[a-z0-9]{8}$/);
    assert.equal(a.run_id, b.run_id);
    assert.notEqual(a.run_id, other.run_id);
    const withoutRunId = parseLaunchMessage({ queue: "gpu", entity: "acme", project: "vision" });
    assert.equal(a.run_id, runIdFor(withoutRunId, ITEM));
  });

  it("keeps a run id the user gave, and the `vertex` resource name", () => {
    const m = runSpecToMessage(ITEM, "gpu", {
      ...pushed,
      run_id: "my-run-1",
      resource: "vertex",
      resource_args: { vertex: { run: { timeout: 60 } } },
    });
    assert.equal(m.run_id, "my-run-1");
    assert.deepEqual(m.resource_args, { vertex: { run: { timeout: 60 } } });
  });

  it("reads a job without an alias as its latest version", () => {
    const m = runSpecToMessage(ITEM, "gpu", { ...pushed, job: "acme/vision/train-resnet" });
    assert.equal(m.job, "acme/vision/train-resnet:latest");
  });

  it("refuses an item of another resource, naming runSpec.resource", () => {
    const err = invalid({ ...pushed, resource: "kubernetes" });
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ["runSpec.resource"],
    );
    assert.match(err.message, /only W&B queues of resource gcp-vertex/);
  });

  it("names the runSpec path of a missing entity or a bad override", () => {
    const err = invalid({ project: "p", overrides: { args: "--lr 0.1" } });
    assert.deepEqual(err.issues.map((i) => i.path).sort(), [
      "runSpec.entity",
      "runSpec.overrides.args",
    ]);
  });

  it("reports what the launch message schema refuses, with its path", () => {
    const err = invalid({ ...pushed, run_id: "Has Capitals" });
    assert.equal(err.issues[0]?.path, "launch message run_id");
    assert.match(err.message, /a-z, 0-9/);
  });

  it("refuses a runSpec that is not an object", () => {
    assert.equal(invalid("not json").issues[0]?.path, "runSpec");
  });
});
