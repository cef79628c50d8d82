/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B macros such as ${image_uri} are literal strings here. */
// resource_args overrides, template variables and macros (SPEC §3), in resolution order.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertIssue,
  assertWarning,
  baseMessage,
  baseQueue,
  caught,
  resolveRaw,
  set,
} from "../helpers/resolve_fixtures.js";

type Obj = Record<string, unknown>;
const pool0 = (r: { customJob: Obj }) =>
  (r.customJob.jobSpec as { workerPoolSpecs: Obj[] }).workerPoolSpecs[0] as Obj;
const container = (r: { customJob: Obj }) => pool0(r).containerSpec as Obj;

describe("resolve: resource_args overrides", () => {
  const open = () => ({ ...baseQueue(), allow_resource_overrides: true });
  const override = (body: Obj, key = "gcp-vertex") => ({
    ...baseMessage(),
    resource_args: { [key]: body },
  });

  it("are an error on a queue that does not allow them, naming every field", () => {
    const err = caught(() =>
      resolveRaw(baseQueue(), override({ run: { timeout: 60 }, spec: { display_name: "x" } })),
    );
    assert.equal(err.kind, "invalid_message");
    assertIssue(
      err,
      "message.resource_args.gcp-vertex.run.timeout",
      /does not allow resource overrides.*allow_resource_overrides: true/,
    );
    assertIssue(
      err,
      "message.resource_args.gcp-vertex.spec.display_name",
      /does not allow resource overrides/,
    );
  });
  it("empty overrides are fine on any queue", () => {
    resolveRaw(baseQueue(), override({}));
    resolveRaw(baseQueue(), override({ spec: {} }));
    resolveRaw(baseQueue(), override({ spec: {}, run: {} }, "vertex"));
  });
  it("deep-merge over the queue config when allowed (key gcp-vertex)", () => {
    const r = resolveRaw(
      open(),
      override({ run: { timeout: 60 }, spec: { display_name: "over" } }),
    );
    assert.deepEqual((r.customJob.jobSpec as Obj).scheduling, { timeout: { seconds: 60 } });
    assert.equal(r.customJob.displayName, "over");
    assert.equal(
      (r.customJob.jobSpec as Obj).serviceAccount,
      "trainer@acme-ml.iam.gserviceaccount.com",
    );
  });
  it("work under the key vertex too", () => {
    const r = resolveRaw(open(), override({ run: { enable_web_access: true } }, "vertex"));
    assert.equal((r.customJob.jobSpec as Obj).enableWebAccess, true);
  });
  it("replace lists wholesale", () => {
    const pools = [
      {
        machine_spec: { machine_type: "n1-standard-8" },
        container_spec: { image_uri: "gcr.io/p/i:2" },
      },
    ];
    const r = resolveRaw(open(), override({ spec: { worker_pool_specs: pools } }));
    assert.deepEqual(pool0(r).machineSpec, { machineType: "n1-standard-8" });
  });
  it("null removes a key", () => {
    const r = resolveRaw(
      set(open(), "spec.display_name", "queue-name"),
      override({ spec: { display_name: null } }),
    );
    assert.equal(r.customJob.displayName, "wandb-run1");
  });
  it("unknown keys in an override are errors with the message's path", () => {
    const err = caught(() =>
      resolveRaw(open(), override({ run: { timout: 5 }, spec: { workerPoolSpecs: [] } })),
    );
    assertIssue(err, "message.resource_args.gcp-vertex.run.timout", /did you mean "timeout"/);
    assertIssue(
      err,
      "message.resource_args.gcp-vertex.spec.workerPoolSpecs",
      /write "worker_pool_specs"/,
    );
  });
  it("an unknown key in an override is reported once, at the message's path", () => {
    const pools = [
      {
        machine_spec: { machine_type: "n1-standard-4", gpus: 1 },
        container_spec: { image_uri: "gcr.io/p/i:1" },
      },
    ];
    const err = caught(() =>
      resolveRaw(open(), override({ run: { timout: 5 }, spec: { worker_pool_specs: pools } })),
    );
    assert.equal(err.kind, "invalid_message");
    assert.deepEqual(
      err.issues.map((i) => i.path),
      [
        "message.resource_args.gcp-vertex.spec.worker_pool_specs[0].machine_spec.gpus",
        "message.resource_args.gcp-vertex.run.timout",
      ],
    );
  });
  it("a bad value from an override says it came from the message", () => {
    const err = caught(() => resolveRaw(open(), override({ run: { timeout: "1h" } })));
    assert.equal(err.kind, "invalid_message");
    assertIssue(
      err,
      "run.timeout",
      /whole number of seconds.*\(set by the message's resource_args\)/,
    );
  });
});

describe("resolve: issues found after validation on values from resource_args are the message's", () => {
  const open = () => ({ ...baseQueue(), allow_resource_overrides: true });
  const override = (body: Obj) => ({ ...baseMessage(), resource_args: { "gcp-vertex": body } });
  const BY_MESSAGE = /\(set by the message's resource_args\)$/;

  it("compute checks", () => {
    const pools = [
      {
        machine_spec: {
          machine_type: "n1-standard-4",
          accelerator_type: "NVIDIA_TESLA_A100",
          accelerator_count: 1,
        },
        container_spec: { image_uri: "gcr.io/p/i:1" },
      },
    ];
    const err = caught(() => resolveRaw(open(), override({ spec: { worker_pool_specs: pools } })));
    assert.equal(err.kind, "invalid_message");
    assertIssue(err, "spec.worker_pool_specs[0].machine_spec.accelerator_type", BY_MESSAGE);
  });
  it("FLEX_START's timeout limit", () => {
    const q = set(
      set(open(), "spec.worker_pool_specs[0].machine_spec", {
        machine_type: "g2-standard-8",
        accelerator_type: "NVIDIA_L4",
        accelerator_count: 1,
      }),
      "run.scheduling_strategy",
      "FLEX_START",
    );
    const err = caught(() => resolveRaw(q, override({ run: { timeout: 8 * 86_400 } })));
    assert.equal(err.kind, "invalid_message");
    assertIssue(err, "run.timeout", BY_MESSAGE);
  });
  it("the display name", () => {
    const err = caught(() =>
      resolveRaw(open(), override({ spec: { display_name: "x".repeat(129) } })),
    );
    assert.equal(err.kind, "invalid_message");
    assertIssue(err, "spec.display_name", /at most 128 characters.*\(set by the message's/);
  });
  it("labels, and too many labels when the queue's own fit", () => {
    const bad = caught(() => resolveRaw(open(), override({ spec: { labels: { Team: "x" } } })));
    assert.equal(bad.kind, "invalid_message");
    assertIssue(bad, "spec.labels.Team", BY_MESSAGE);
    const queueLabels = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`q${i}`, "x"]));
    const more = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`m${i}`, "x"]));
    const many = caught(() =>
      resolveRaw(set(open(), "spec.labels", queueLabels), override({ spec: { labels: more } })),
    );
    assert.equal(many.kind, "invalid_message");
    assertIssue(many, "spec.labels", /at most 58 labels.*\(set by the message's/);
  });
  it("service accounts that differ", () => {
    const err = caught(() =>
      resolveRaw(
        open(),
        override({ spec: { service_account: "other@acme-ml.iam.gserviceaccount.com" } }),
      ),
    );
    assert.equal(err.kind, "invalid_message");
    assertIssue(err, "run.service_account", /differs from spec\.service_account.*\(set by the/);
  });
  it("experiments and reserved IP ranges", () => {
    const err = caught(() =>
      resolveRaw(open(), override({ run: { experiment_run: "r1", reserved_ip_ranges: ["a"] } })),
    );
    assert.equal(err.kind, "invalid_message");
    assertIssue(err, "run.experiment_run", BY_MESSAGE);
    assertIssue(err, "run.reserved_ip_ranges", BY_MESSAGE);
  });
  it("env limits when the message's env pushes a container over 100", () => {
    const env = Object.fromEntries(Array.from({ length: 92 }, (_, i) => [`V${i}`, "x"]));
    const err = caught(() => resolveRaw(baseQueue(), { ...baseMessage(), env }));
    assert.equal(err.kind, "invalid_message");
    assertIssue(
      err,
      "spec.worker_pool_specs[0].container_spec.env",
      /got 101 .*the launch message's env and W&B variables push it over/,
    );
  });
  it("the queue's own env over 100 stays the queue's", () => {
    const q = set(
      baseQueue(),
      "spec.worker_pool_specs[0].container_spec.env",
      Array.from({ length: 95 }, (_, i) => ({ name: `Q${i}`, value: "x" })),
    );
    const err = caught(() => resolveRaw(q, baseMessage()));
    assert.equal(err.kind, "invalid_config");
    assert.ok(!/push it over|resource_args/.test(err.message), err.message);
  });
  it("a problem of the queue's own keeps the kind invalid_config; only the message's carries the note", () => {
    const q = set(open(), "spec.labels", { Bad: "x" });
    const err = caught(() => resolveRaw(q, override({ spec: { display_name: "x".repeat(129) } })));
    assert.equal(err.kind, "invalid_config");
    assertIssue(err, "spec.display_name", BY_MESSAGE);
    assertIssue(err, "spec.labels.Bad", /breaks Google's label rules: [^(]*$/);
  });
});

describe("resolve: template variables", () => {
  const templated = () => {
    const q: Obj = {
      ...baseQueue(),
      template_variables: {
        gpus: { schema: { type: "integer", minimum: 1, maximum: 4 }, default: 1 },
        lr: { schema: { type: "number" } },
        machine: {
          schema: { type: "string", enum: ["n1-standard-8", "n1-standard-16"] },
          default: "n1-standard-8",
        },
        tag: { schema: { type: "string" } },
      },
    };
    set(q, "spec.worker_pool_specs[0].machine_spec", {
      machine_type: "{{machine}}",
      accelerator_type: "NVIDIA_TESLA_T4",
      accelerator_count: "{{gpus}}",
    });
    set(q, "spec.worker_pool_specs[0].container_spec.args", [
      "{{gpus}}",
      "--lr={{lr}}",
      "{{ gpus }}",
    ]);
    return q;
  };
  const msg = (vars: Obj) => ({ ...baseMessage(), template_variables: vars });

  it("a whole reference takes the typed value in a numeric field and the text in a string field", () => {
    const r = resolveRaw(templated(), msg({ gpus: 4, lr: 0.5, machine: "n1-standard-16" }));
    assert.deepEqual(pool0(r).machineSpec, {
      machineType: "n1-standard-16",
      acceleratorType: "NVIDIA_TESLA_T4",
      acceleratorCount: 4,
    });
    assert.deepEqual(container(r).args, ["4", "--lr=0.5", "4"]);
  });
  it("an error in a value a variable filled names the variable", () => {
    const q = set(templated(), "run.timeout", "{{lr}}");
    assertIssue(
      caught(() => resolveRaw(q, msg({ lr: 1.5 }))),
      "run.timeout",
      /whole number of seconds, e.g. 3600 \(from template variable lr\)$/,
    );
    // Interpolated into a longer string, and in the checks after validation.
    const bucket = set(templated(), "spec.staging_bucket", "gs://{{tag}}");
    assertIssue(
      caught(() => resolveRaw(bucket, msg({ lr: 1, tag: "Not_A_Bucket" }))),
      "spec.staging_bucket",
      /Cloud Storage URI.*\(from template variable tag\)$/,
    );
    assertIssue(
      caught(() => resolveRaw(templated(), msg({ lr: 1, gpus: 3 }))),
      "spec.worker_pool_specs[0].machine_spec.accelerator_count",
      /\(from template variable gpus\)$/,
    );
  });
  it("defaults fill what the message leaves out", () => {
    const r = resolveRaw(templated(), msg({ lr: 1 }));
    assert.equal((pool0(r).machineSpec as Obj).acceleratorCount, 1);
    assert.equal((pool0(r).machineSpec as Obj).machineType, "n1-standard-8");
  });
  it("numeric strings from a message are accepted for number variables", () => {
    const r = resolveRaw(templated(), msg({ gpus: "2", lr: "0.1" }));
    assert.equal((pool0(r).machineSpec as Obj).acceleratorCount, 2);
  });
  it("interpolates inside a longer string", () => {
    const q = set(templated(), "spec.display_name", "job-{{machine}}-{{gpus}}");
    assert.equal(resolveRaw(q, msg({ lr: 1 })).customJob.displayName, "job-n1-standard-8-1");
  });
  it("substitutes in run too", () => {
    const q: Obj = {
      ...baseQueue(),
      template_variables: { hours: { schema: { type: "integer" }, default: 2 } },
    };
    set(q, "run.timeout", "{{hours}}");
    assert.deepEqual(
      ((resolveRaw(q, baseMessage()).customJob.jobSpec as Obj).scheduling as Obj).timeout,
      { seconds: 2 },
    );
  });
  const ERRORS: Array<[string, Obj, string, RegExp, string]> = [
    [
      "a value above the maximum",
      { gpus: 8, lr: 1 },
      "message.template_variables.gpus",
      /at most 4, got 8/,
      "invalid_message",
    ],
    [
      "a value below the minimum",
      { gpus: 0, lr: 1 },
      "message.template_variables.gpus",
      /at least 1, got 0/,
      "invalid_message",
    ],
    [
      "a non-integer for an integer",
      { gpus: 1.5, lr: 1 },
      "message.template_variables.gpus",
      /must be an integer/,
      "invalid_message",
    ],
    [
      "a word for a number",
      { gpus: 1, lr: "fast" },
      "message.template_variables.lr",
      /must be a number, got the string "fast"/,
      "invalid_message",
    ],
    [
      "a value outside the enum",
      { lr: 1, machine: "n1-standard-4" },
      "message.template_variables.machine",
      /must be one of "n1-standard-8", "n1-standard-16"/,
      "invalid_message",
    ],
    [
      "a number for a string variable",
      { lr: 1, tag: 5 },
      "message.template_variables.tag",
      /must be a string/,
      "invalid_message",
    ],
    [
      "an unknown variable",
      { lr: 1, gpu: 2 },
      "message.template_variables.gpu",
      /defines no template variable "gpu": did you mean "gpus"\?/,
      "invalid_message",
    ],
    [
      "a missing value (no default)",
      { gpus: 2 },
      "message.template_variables.lr",
      /has no value \(used at spec.worker_pool_specs\[0\].container_spec.args\[1\]\)/,
      "invalid_message",
    ],
  ];
  for (const [title, vars, path, message, kind] of ERRORS) {
    it(`${title} is an error naming the variable`, () => {
      const err = caught(() => resolveRaw(templated(), msg(vars)));
      assert.equal(err.kind, kind);
      assertIssue(err, path, message);
    });
  }
  it("a string variable in a numeric field is an error naming the variable", () => {
    const q = set(templated(), "spec.worker_pool_specs[0].replica_count", "{{machine}}");
    const err = caught(() => resolveRaw(q, msg({ lr: 1 })));
    assertIssue(
      err,
      "spec.worker_pool_specs[0].replica_count",
      /template variable "machine" is a string but this field needs a number/,
    );
  });
  it("a reference to an undefined variable brought in by an override is an error", () => {
    const q = { ...templated(), allow_resource_overrides: true };
    const err = caught(() =>
      resolveRaw(q, {
        ...msg({ lr: 1 }),
        resource_args: { vertex: { spec: { display_name: "{{nope}}" } } },
      }),
    );
    assertIssue(err, "spec.display_name", /unknown template variable "nope"/);
  });
  it("the typed value is then validated like any other value", () => {
    const q: Obj = {
      ...baseQueue(),
      template_variables: { n: { schema: { type: "integer" }, default: 0 } },
    };
    set(q, "spec.worker_pool_specs[0].replica_count", "{{n}}");
    const err = caught(() => resolveRaw(q, baseMessage()));
    assertIssue(err, "spec.worker_pool_specs[0].replica_count", /at least 1, got 0/);
  });
});

describe("resolve: macros", () => {
  it("fills every W&B macro in every string of spec and run", () => {
    const q = baseQueue();
    set(q, "spec.worker_pool_specs[0].container_spec.args", [
      "${image_uri}",
      "${project_name}",
      "${entity_name}",
      "${run_id}",
      "${run_name}",
      "${author}",
      "${queue_name}",
    ]);
    set(q, "spec.base_output_dir", "gs://out-bkt/${entity_name}/${project_name}/${run_id}");
    set(q, "run.experiment", "exp-${project_name}");
    const r = resolveRaw(q, { ...baseMessage(), name: "my-run", author: "mira" });
    assert.deepEqual(container(r).args, [
      "us-central1-docker.pkg.dev/acme-ml/train/img:1",
      "vision",
      "acme",
      "run1",
      "my-run",
      "mira",
      "q",
    ]);
    assert.deepEqual((r.customJob.jobSpec as Obj).baseOutputDirectory, {
      outputUriPrefix: "gs://out-bkt/acme/vision/run1",
    });
    assert.match((r.customJob.jobSpec as Obj).experiment as string, /contexts\/exp-vision$/);
  });
  it("${run_name} falls back to the run id", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.args", ["${run_name}"]);
    assert.deepEqual(container(resolveRaw(q, baseMessage())).args, ["run1"]);
  });
  it("${author} without an author is empty, with a warning", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.args", ["--by=${author}"]);
    const r = resolveRaw(q, baseMessage());
    assert.deepEqual(container(r).args, ["--by="]);
    assertWarning(r.warnings, /\$\{author\} is empty/);
  });
  it("${image_uri} without an image_uri in the message is an error", () => {
    const m = baseMessage();
    delete m.image_uri;
    const err = caught(() => resolveRaw(baseQueue(), m));
    assert.equal(err.kind, "invalid_message");
    assertIssue(
      err,
      "spec.worker_pool_specs[0].container_spec.image_uri",
      /uses \$\{image_uri\} but the launch message has no image_uri/,
    );
  });
  it("unknown macros are kept as they are and warned about", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.args", [
      "${project}",
      "${foo}",
    ]);
    const r = resolveRaw(q, baseMessage());
    assert.deepEqual(container(r).args, ["${project}", "${foo}"]);
    assertWarning(
      r.warnings,
      "unknown macro ${project} left as is (did you mean ${project_name}?)",
    );
    assertWarning(r.warnings, "unknown macro ${foo}");
  });
  it("never substitutes the dispatcher's environment variables", () => {
    process.env.VD_TEST_SECRET = "leak";
    try {
      const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.args", [
        "${VD_TEST_SECRET}",
        "$VD_TEST_SECRET",
        "${HOME}",
      ]);
      assert.deepEqual(container(resolveRaw(q, baseMessage())).args, [
        "${VD_TEST_SECRET}",
        "$VD_TEST_SECRET",
        "${HOME}",
      ]);
    } finally {
      delete process.env.VD_TEST_SECRET;
    }
  });
  it("run after template variables: a variable's value may hold a macro", () => {
    const q: Obj = {
      ...baseQueue(),
      template_variables: { name: { schema: { type: "string" }, default: "${run_id}-x" } },
    };
    set(q, "spec.display_name", "{{name}}");
    assert.equal(resolveRaw(q, baseMessage()).customJob.displayName, "run1-x");
  });
  it("labels hold no macros of their own making: a macro making a value invalid is an error", () => {
    const q = set(baseQueue(), "spec.labels", { owner: "${author}" });
    const err = caught(() => resolveRaw(q, { ...baseMessage(), author: "Mira K" }));
    assertIssue(err, "spec.labels.owner", /label value "Mira K" breaks Google's label rules/);
  });
});
