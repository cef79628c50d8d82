// The queue config schema (SPEC §3) as written: dispatcher keys and their defaults,
// template variable definitions, snake_case keys with did-you-mean, YAML and JSON files.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseQueueConfig, parseQueueConfigText } from "../../shared/schemas/queue_config.js";
import { assertIssue, baseQueue, caught, fixture, set } from "../helpers/resolve_fixtures.js";

describe("queue config: valid", () => {
  it("applies the dispatcher defaults", () => {
    const c = parseQueueConfig(baseQueue(), "q");
    assert.equal(c.start_timeout, 1800);
    assert.equal(c.max_retries, 0);
    assert.equal(c.allow_resource_overrides, false);
    assert.equal(c.max_jobs, undefined);
    assert.equal(c.project, undefined);
    assert.deepEqual(c.template_variables, {});
  });
  it("reads every dispatcher key", () => {
    const c = parseQueueConfig(
      {
        ...baseQueue(),
        project: "acme-ml",
        max_jobs: 4,
        start_timeout: 600,
        max_retries: 2,
        allow_resource_overrides: true,
        service_account: "q@acme-ml.iam.gserviceaccount.com",
      },
      "q",
    );
    assert.equal(c.max_jobs, 4);
    assert.equal(c.start_timeout, 600);
    assert.equal(c.max_retries, 2);
    assert.equal(c.allow_resource_overrides, true);
  });
  it("accepts the seed's default config unchanged (YAML)", () => {
    const c = parseQueueConfigText(
      fixture("queues", "seed-default.yaml"),
      "seed-default.yaml",
      "seed-default",
    );
    assert.equal(c.run.restart_job_on_worker_restart, false);
  });
  it("reads JSON files", () => {
    const c = parseQueueConfigText(JSON.stringify(baseQueue()), "q.json", "q");
    assert.equal(c.region, "us-central1");
  });
  it("keeps template references where numbers go until they are substituted", () => {
    const c = parseQueueConfigText(
      fixture("queues", "gpu-template.yaml"),
      "gpu-template.yaml",
      "gpu-template",
    );
    assert.deepEqual(Object.keys(c.template_variables), ["gpus", "machine"]);
  });
  it("accepts sync/synchronous (ignored)", () => {
    parseQueueConfig(set(set(baseQueue(), "run.sync", true), "run.synchronous", false), "q");
  });
});

const t = (path: string, value: unknown) => set(baseQueue(), path, value);
const tv = (defs: unknown) => ({ ...baseQueue(), template_variables: defs });

const INVALID: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ["spec missing", { region: "us-central1" }, "spec", /required/],
  ["no worker pools", t("spec.worker_pool_specs", []), "spec.worker_pool_specs", /at least 1 item/],
  [
    "machine_type missing",
    t("spec.worker_pool_specs[0].machine_spec.machine_type", undefined),
    "spec.worker_pool_specs[0].machine_spec.machine_type",
    /required/,
  ],
  [
    "machine_spec missing",
    t("spec.worker_pool_specs[0].machine_spec", undefined),
    "spec.worker_pool_specs[0].machine_spec",
    /required/,
  ],
  [
    "no container or package",
    t("spec.worker_pool_specs[0].container_spec", undefined),
    "spec.worker_pool_specs[0]",
    /container_spec.*python_package_spec/,
  ],
  [
    "container and package",
    t("spec.worker_pool_specs[0].python_package_spec", {
      executor_image_uri: "i",
      package_uris: ["gs://bkt/p.tar.gz"],
      python_module: "m",
    }),
    "spec.worker_pool_specs[0]",
    /not both/,
  ],
  [
    "image_uri missing",
    t("spec.worker_pool_specs[0].container_spec", {}),
    "spec.worker_pool_specs[0].container_spec.image_uri",
    /required/,
  ],
  [
    "python module missing",
    t("spec.worker_pool_specs[0]", {
      machine_spec: { machine_type: "n1-standard-4" },
      python_package_spec: { executor_image_uri: "i", package_uris: ["gs://bkt/p"] },
    }),
    "spec.worker_pool_specs[0].python_package_spec.python_module",
    /required/,
  ],
  [
    "package uri not gs://",
    t("spec.worker_pool_specs[0]", {
      machine_spec: { machine_type: "n1-standard-4" },
      python_package_spec: {
        executor_image_uri: "i",
        package_uris: ["https://x/p"],
        python_module: "m",
      },
    }),
    "spec.worker_pool_specs[0].python_package_spec.package_uris[0]",
    /gs:\/\/bucket/,
  ],
  [
    "staging_bucket missing",
    t("spec.staging_bucket", undefined),
    "spec.staging_bucket",
    /required/,
  ],
  [
    "staging_bucket neither gs:// nor a bare bucket name",
    t("spec.staging_bucket", "s3://my-bucket"),
    "spec.staging_bucket",
    /gs:\/\/bucket\[\/path\]" or a bare bucket name/,
  ],
  [
    "base_output_dir not gs://",
    t("spec.base_output_dir", "/tmp/out"),
    "spec.base_output_dir",
    /gs:\/\/bucket/,
  ],
  [
    "replica_count 0",
    t("spec.worker_pool_specs[0].replica_count", 0),
    "spec.worker_pool_specs[0].replica_count",
    /at least 1/,
  ],
  [
    "accelerator_count negative",
    t("spec.worker_pool_specs[0].machine_spec.accelerator_count", -1),
    "spec.worker_pool_specs[0].machine_spec.accelerator_count",
    /at least 0/,
  ],
  [
    "accelerator_count a word",
    t("spec.worker_pool_specs[0].machine_spec.accelerator_count", "four"),
    "spec.worker_pool_specs[0].machine_spec.accelerator_count",
    /expected an integer|expected a number/,
  ],
  [
    "tpu_topology malformed",
    t("spec.worker_pool_specs[0].machine_spec.tpu_topology", "2by2"),
    "spec.worker_pool_specs[0].machine_spec.tpu_topology",
    /2x2/,
  ],
  [
    "env entry without value",
    t("spec.worker_pool_specs[0].container_spec.env", [{ name: "A" }]),
    "spec.worker_pool_specs[0].container_spec.env[0].value",
    /required/,
  ],
  [
    "env name invalid",
    t("spec.worker_pool_specs[0].container_spec.env", [{ name: "A-B", value: "1" }]),
    "spec.worker_pool_specs[0].container_spec.env[0].name",
    /C identifiers/,
  ],
  [
    "nfs path relative",
    t("spec.worker_pool_specs[0].nfs_mounts", [
      { server: "10.0.0.2", path: "exports", mount_point: "data" },
    ]),
    "spec.worker_pool_specs[0].nfs_mounts[0].path",
    /starting with "\/"/,
  ],
  [
    "kms key malformed",
    t("spec.encryption_spec_key_name", "my-key"),
    "spec.encryption_spec_key_name",
    /keyRings/,
  ],
  [
    "spec service account not an email",
    t("spec.service_account", "trainer"),
    "spec.service_account",
    /service-account email/,
  ],
  [
    "run service account a user email",
    t("run.service_account", "me@gmail.com"),
    "run.service_account",
    /service-account email/,
  ],
  [
    "queue service account not an email",
    { ...baseQueue(), service_account: "x" },
    "service_account",
    /service-account email/,
  ],
  ["timeout a string", t("run.timeout", "1h"), "run.timeout", /whole number of seconds/],
  ["timeout fractional", t("run.timeout", 1.5), "run.timeout", /whole number of seconds/],
  ["timeout 0", t("run.timeout", 0), "run.timeout", /at least 1/],
  [
    "max_wait_duration negative",
    t("run.max_wait_duration", -5),
    "run.max_wait_duration",
    /at least 0/,
  ],
  [
    "strategy unknown",
    t("run.scheduling_strategy", "SPOTT"),
    "run.scheduling_strategy",
    /did you mean "SPOT"/,
  ],
  [
    "strategy deprecated",
    t("run.scheduling_strategy", "LOW_COST"),
    "run.scheduling_strategy",
    /allowed: STANDARD, SPOT, FLEX_START/,
  ],
  [
    "network malformed",
    t("run.network", "default"),
    "run.network",
    /projects\/PROJECT_NUMBER\/global\/networks\/NETWORK/,
  ],
  ["tensorboard malformed", t("run.tensorboard", "tb"), "run.tensorboard", /tensorboards/],
  [
    "enable_web_access a string",
    t("run.enable_web_access", "yes"),
    "run.enable_web_access",
    /true or false/,
  ],
  [
    "reserved_ip_ranges a string",
    t("run.reserved_ip_ranges", "r"),
    "run.reserved_ip_ranges",
    /expected a list/,
  ],
  [
    "camelCase spec key",
    t("spec.workerPoolSpecs", []),
    "spec.workerPoolSpecs",
    /snake_case: write "worker_pool_specs" instead of "workerPoolSpecs"/,
  ],
  [
    "camelCase nested key",
    t("spec.worker_pool_specs[0].machine_spec.machineType", "n1-standard-4"),
    "spec.worker_pool_specs[0].machine_spec.machineType",
    /write "machine_type"/,
  ],
  [
    "camelCase run key",
    t("run.restartJobOnWorkerRestart", true),
    "run.restartJobOnWorkerRestart",
    /write "restart_job_on_worker_restart"/,
  ],
  [
    "typo in spec",
    t("spec.staging_buckt", "gs://x"),
    "spec.staging_buckt",
    /did you mean "staging_bucket"/,
  ],
  ["typo in run", t("run.timout", 5), "run.timout", /did you mean "timeout"/],
  ["typo at top level", { ...baseQueue(), max_job: 3 }, "max_job", /did you mean "max_jobs"/],
  ["project inside spec", t("spec.project", "acme"), "spec.project", /top-level `project` key/],
  [
    "location inside spec",
    t("spec.location", "us-central1"),
    "spec.location",
    /top-level `region` key/,
  ],
  ["project id malformed", { ...baseQueue(), project: "Acme_ML" }, "project", /GCP project id/],
  ["max_jobs 0", { ...baseQueue(), max_jobs: 0 }, "max_jobs", /at least 1/],
  ["max_retries negative", { ...baseQueue(), max_retries: -1 }, "max_retries", /at least 0/],
  [
    "start_timeout a string",
    { ...baseQueue(), start_timeout: "30m" },
    "start_timeout",
    /whole number of seconds/,
  ],
  [
    "allow_resource_overrides a string",
    { ...baseQueue(), allow_resource_overrides: "yes" },
    "allow_resource_overrides",
    /true or false/,
  ],
  ["spec a list", { ...baseQueue(), spec: [] }, "spec", /expected an object/],
  [
    "template type unknown",
    tv({ g: { schema: { type: "bool" } } }),
    "template_variables.g.schema.type",
    /integer, number, string|did you mean/,
  ],
  ["template schema missing", tv({ g: { default: 1 } }), "template_variables.g.schema", /required/],
  [
    "template default outside",
    tv({ g: { schema: { type: "integer", maximum: 8 }, default: 9 } }),
    "template_variables.g.default",
    /at most 8/,
  ],
  [
    "template default wrong type",
    tv({ g: { schema: { type: "integer" }, default: "x" } }),
    "template_variables.g.default",
    /must be an integer/,
  ],
  [
    "template min above max",
    tv({ g: { schema: { type: "integer", minimum: 5, maximum: 1 } } }),
    "template_variables.g.schema.minimum",
    /above maximum/,
  ],
  [
    "template string with minimum",
    tv({ g: { schema: { type: "string", minimum: 1 } } }),
    "template_variables.g.schema",
    /integer and number variables only/,
  ],
  [
    "template enum of wrong type",
    tv({ g: { schema: { type: "string", enum: ["a", 1] } } }),
    "template_variables.g.schema.enum[1]",
    /of type string/,
  ],
  [
    "template name invalid",
    tv({ "g pus": { schema: { type: "integer" } } }),
    "template_variables.g pus",
    /template variable names/,
  ],
  [
    "template unknown key",
    tv({ g: { schema: { type: "integer" }, defualt: 1 } }),
    "template_variables.g.defualt",
    /did you mean "default"/,
  ],
  [
    "reference to an undefined variable",
    t("spec.worker_pool_specs[0].machine_spec.accelerator_count", "{{gpus}}"),
    "spec.worker_pool_specs[0].machine_spec.accelerator_count",
    /unknown template variable "gpus"/,
  ],
];

describe("queue config: every error has its path and says what is expected", () => {
  for (const [title, input, path, message] of INVALID) {
    it(title, () => {
      const err = caught(() => parseQueueConfig(input, "q"));
      assert.equal(err.kind, "invalid_config");
      assertIssue(err, path, message);
      assert.match(err.message, /invalid queue config "q"/);
    });
  }
  it("lists problems in the dispatcher keys and in spec at once", () => {
    const input = set(
      set({ ...baseQueue(), max_jobs: 0 }, "spec.staging_bucket", "x"),
      "run.timout",
      1,
    );
    const err = caught(() => parseQueueConfig(input, "q"));
    assert.deepEqual(err.issues.map((i) => i.path).sort(), [
      "max_jobs",
      "run.timout",
      "spec.staging_bucket",
    ]);
  });
});

describe("queue config files", () => {
  it("reports YAML syntax errors with the line", () => {
    const err = caught(() =>
      parseQueueConfigText("spec:\n  worker_pool_specs: [1\nrun: {}\n", "q.yaml", "q"),
    );
    assert.equal(err.kind, "invalid_config");
    assert.match(err.issues[0]?.message ?? "", /not valid YAML at line \d+, column \d+/);
  });
  it("reports duplicate YAML keys", () => {
    const err = caught(() => parseQueueConfigText("region: a\nregion: b\n", "q.yml", "q"));
    assert.match(err.issues[0]?.message ?? "", /unique/);
  });
  it("reports an unquoted {{var}} in YAML with the fix", () => {
    const yaml = fixture("queues", "gpu-template.yaml").replace(
      'accelerator_count: "{{gpus}}"',
      "accelerator_count: {{gpus}}",
    );
    const err = caught(() => parseQueueConfigText(yaml, "gpu-template.yaml", "gpu-template"));
    assertIssue(
      err,
      "spec.worker_pool_specs[0].machine_spec.accelerator_count",
      /quote template references in YAML: write "\{\{gpus\}\}"/,
    );
    assert.equal(err.issues.length, 1, err.message);
  });
  it("reports an unquoted {{var}} once, without a YAML library warning", async () => {
    const yaml = fixture("queues", "gpu-template.yaml").replace(
      'accelerator_count: "{{gpus}}"',
      "accelerator_count: {{gpus}}",
    );
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      const err = caught(() => parseQueueConfigText(yaml, "gpu-template.yaml", "gpu-template"));
      assert.deepEqual(
        err.issues.map((i) => i.path),
        ["spec.worker_pool_specs[0].machine_spec.accelerator_count"],
      );
      await new Promise((resolve) => setImmediate(resolve)); // process warnings are emitted on the next tick
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(warnings, []);
  });
  it("reports JSON syntax errors", () => {
    const err = caught(() => parseQueueConfigText("{", "q.json", "q"));
    assert.match(err.issues[0]?.message ?? "", /not valid JSON/);
  });
  it("refuses other extensions", () => {
    const err = caught(() => parseQueueConfigText("{}", "q.toml", "q"));
    assert.match(err.message, /\.yaml, \.yml or \.json/);
  });
  it("refuses an empty file", () => {
    const err = caught(() => parseQueueConfigText("", "q.yaml", "q"));
    assert.match(err.issues[0]?.message ?? "", /empty/);
  });
});

describe("queue config: machine_spec.reservation_affinity and gpu_partition_size", () => {
  const withMachine = (ms: Record<string, unknown>) =>
    set(baseQueue(), "spec.worker_pool_specs[0].machine_spec", {
      machine_type: "a2-highgpu-1g",
      accelerator_type: "NVIDIA_TESLA_A100",
      accelerator_count: 1,
      ...ms,
    });
  const at = "spec.worker_pool_specs[0].machine_spec.reservation_affinity";
  const NAME = "projects/acme-ml/zones/us-central1-a/reservations/a100-pool";

  it("accepts the three reservation types and a partition size", () => {
    for (const ra of [
      { reservation_affinity_type: "NO_RESERVATION" },
      { reservation_affinity_type: "ANY_RESERVATION" },
      {
        reservation_affinity_type: "SPECIFIC_RESERVATION",
        key: "compute.googleapis.com/reservation-name",
        values: [NAME],
      },
    ]) {
      parseQueueConfig(
        withMachine({ reservation_affinity: ra, gpu_partition_size: "1g.5gb" }),
        "q",
      );
    }
  });
  it("SPECIFIC_RESERVATION needs the reservation-name key and full resource names", () => {
    const none = caught(() =>
      parseQueueConfig(
        withMachine({
          reservation_affinity: { reservation_affinity_type: "SPECIFIC_RESERVATION" },
        }),
        "q",
      ),
    );
    assertIssue(none, `${at}.key`, /needs key: compute\.googleapis\.com\/reservation-name/);
    assertIssue(none, `${at}.values`, /needs values: .*projects\/PROJECT\/zones\/ZONE/);
    const wrong = caught(() =>
      parseQueueConfig(
        withMachine({
          reservation_affinity: {
            reservation_affinity_type: "SPECIFIC_RESERVATION",
            key: "reservation",
            values: ["a100-pool"],
          },
        }),
        "q",
      ),
    );
    assertIssue(wrong, `${at}.key`, /got "reservation"/);
    assertIssue(wrong, `${at}.values[0]`, /full resource name/);
  });
  it("NO_RESERVATION and ANY_RESERVATION take no key or values", () => {
    const err = caught(() =>
      parseQueueConfig(
        withMachine({
          reservation_affinity: { reservation_affinity_type: "ANY_RESERVATION", values: [NAME] },
        }),
        "q",
      ),
    );
    assertIssue(err, `${at}.values`, /SPECIFIC_RESERVATION only/);
  });
  it("the type is required and checked by name, TYPE_UNSPECIFIED refused", () => {
    assertIssue(
      caught(() => parseQueueConfig(withMachine({ reservation_affinity: {} }), "q")),
      `${at}.reservation_affinity_type`,
      /required/,
    );
    assertIssue(
      caught(() =>
        parseQueueConfig(
          withMachine({ reservation_affinity: { reservation_affinity_type: "ANY" } }),
          "q",
        ),
      ),
      `${at}.reservation_affinity_type`,
      /ANY_RESERVATION/,
    );
    caught(() =>
      parseQueueConfig(
        withMachine({ reservation_affinity: { reservation_affinity_type: "TYPE_UNSPECIFIED" } }),
        "q",
      ),
    );
    assertIssue(
      caught(() =>
        parseQueueConfig(
          withMachine({
            reservation_affinity: { reservation_affinity_type: "ANY_RESERVATION", zone: "x" },
          }),
          "q",
        ),
      ),
      `${at}.zone`,
      /unknown key|did you mean|allowed/i,
    );
  });
  it("a partition size looks like 1g.10gb", () => {
    assertIssue(
      caught(() => parseQueueConfig(withMachine({ gpu_partition_size: "10gb" }), "q")),
      "spec.worker_pool_specs[0].machine_spec.gpu_partition_size",
      /such as "1g\.10gb"/,
    );
  });
});

describe("queue config: empty YAML sections", () => {
  it("an empty run: (null) is {}", () => {
    const text = `spec:
  worker_pool_specs:
    - machine_spec:
        machine_type: n1-standard-4
      container_spec:
        image_uri: \${image_uri}
  staging_bucket: gs://my-staging-bucket
run:
`;
    const c = parseQueueConfigText(text, "q.yaml", "q");
    assert.deepEqual(c.run, {});
  });
  it("empty optional objects, maps and lists inside spec are left out; template_variables: is {}", () => {
    const q = baseQueue();
    set(q, "spec.labels", null);
    set(q, "spec.worker_pool_specs[0].disk_spec", null);
    set(q, "spec.worker_pool_specs[0].nfs_mounts", null);
    set(q, "spec.worker_pool_specs[0].container_spec.env", null);
    set(q, "spec.worker_pool_specs[0].container_spec.args", null);
    set(q, "spec.worker_pool_specs[0].python_package_spec", null);
    set(q, "run.reserved_ip_ranges", null);
    q.template_variables = null;
    const c = parseQueueConfig(q, "q");
    assert.deepEqual(c.template_variables, {});
    assert.equal("labels" in c.spec, false);
    assert.deepEqual(c.spec.worker_pool_specs, [
      {
        machine_spec: {
          machine_type: "n1-standard-4",
          accelerator_type: "ACCELERATOR_TYPE_UNSPECIFIED",
          accelerator_count: 0,
        },
        replica_count: 1,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a W&B macro, kept literally
        container_spec: { image_uri: "${image_uri}" },
      },
    ]);
  });
  it("an empty required section, spec:, or an empty scalar is still an error", () => {
    assertIssue(
      caught(() =>
        parseQueueConfig(set(baseQueue(), "spec.worker_pool_specs[0].machine_spec", null), "q"),
      ),
      "spec.worker_pool_specs[0].machine_spec",
      /expected an object/,
    );
    assertIssue(
      caught(() => parseQueueConfig({ ...baseQueue(), spec: null }, "q")),
      "spec",
      /expected/,
    );
    assertIssue(
      caught(() => parseQueueConfig(set(baseQueue(), "run.timeout", null), "q")),
      "run.timeout",
      /whole number of seconds/,
    );
  });
});
