/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B macros such as ${image_uri} are literal strings here. */
// Translation of every spec/run key to its v1 proto field (SPEC §3, §4), the service
// account rules, display name, base output directory, project/region and the result's
// other fields.
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
const job = (queue: Obj, message: Obj = baseMessage(), defaults = { project: "acme-ml" }) =>
  resolveRaw(queue, message, defaults).customJob as {
    jobSpec: Obj & { workerPoolSpecs: Obj[] };
  } & Obj;

describe("resolve: the seed's default config", () => {
  it("renders to the expected CustomJob", () => {
    const r = resolveRaw(baseQueue(), baseMessage());
    assert.equal(r.parent, "projects/acme-ml/locations/us-central1");
    assert.equal(r.project, "acme-ml");
    assert.equal(r.region, "us-central1");
    assert.equal(r.runId, "run1");
    assert.equal(r.stagingBucket, "acme-staging");
    assert.equal(r.outputBucket, "acme-staging");
    assert.deepEqual(r.imageUris, ["us-central1-docker.pkg.dev/acme-ml/train/img:1"]);
    const pool = (r.customJob.jobSpec as { workerPoolSpecs: Obj[] }).workerPoolSpecs[0] as Obj;
    // ACCELERATOR_TYPE_UNSPECIFIED/0 are proto defaults: left out, never sent as enum 0.
    assert.deepEqual(pool.machineSpec, { machineType: "n1-standard-4" });
    assert.equal(pool.replicaCount, 1);
    assert.equal(
      (pool.containerSpec as Obj).imageUri,
      "us-central1-docker.pkg.dev/acme-ml/train/img:1",
    );
    const spec = r.customJob.jobSpec as Obj;
    assert.deepEqual(spec.baseOutputDirectory, { outputUriPrefix: "gs://acme-staging/run1" });
    assert.equal(spec.serviceAccount, "trainer@acme-ml.iam.gserviceaccount.com");
    // restart_job_on_worker_restart: false is the proto default: no scheduling at all.
    assert.equal(spec.scheduling, undefined);
    assert.equal(r.customJob.displayName, "wandb-run1");
  });
});

// [title, config path, value, where in customJob, expected]
const FIELDS: Array<[string, string, unknown, (j: ReturnType<typeof job>) => unknown, unknown]> = [
  [
    "machine_spec.accelerator_type/count",
    "spec.worker_pool_specs[0].machine_spec",
    { machine_type: "n1-standard-8", accelerator_type: "NVIDIA_TESLA_T4", accelerator_count: 2 },
    (j) => j.jobSpec.workerPoolSpecs[0]?.machineSpec,
    { machineType: "n1-standard-8", acceleratorType: "NVIDIA_TESLA_T4", acceleratorCount: 2 },
  ],
  [
    "machine_spec.tpu_topology",
    "spec.worker_pool_specs[0].machine_spec",
    { machine_type: "ct5lp-hightpu-4t", tpu_topology: "2x2" },
    (j) => j.jobSpec.workerPoolSpecs[0]?.machineSpec,
    { machineType: "ct5lp-hightpu-4t", tpuTopology: "2x2" },
  ],
  [
    "replica_count",
    "spec.worker_pool_specs[0].replica_count",
    1,
    (j) => j.jobSpec.workerPoolSpecs[0]?.replicaCount,
    1,
  ],
  [
    "replica_count default 1",
    "spec.worker_pool_specs[0].replica_count",
    undefined,
    (j) => j.jobSpec.workerPoolSpecs[0]?.replicaCount,
    1,
  ],
  [
    "disk_spec",
    "spec.worker_pool_specs[0].disk_spec",
    { boot_disk_type: "pd-standard", boot_disk_size_gb: 500 },
    (j) => j.jobSpec.workerPoolSpecs[0]?.diskSpec,
    { bootDiskType: "pd-standard", bootDiskSizeGb: 500 },
  ],
  [
    "nfs_mounts",
    "spec.worker_pool_specs[0].nfs_mounts",
    [{ server: "10.0.0.2", path: "/exports", mount_point: "data" }],
    (j) => j.jobSpec.workerPoolSpecs[0]?.nfsMounts,
    [{ server: "10.0.0.2", path: "/exports", mountPoint: "data" }],
  ],
  [
    "container_spec.command/args",
    "spec.worker_pool_specs[0].container_spec",
    { image_uri: "img", command: ["python"], args: ["-m", "x"] },
    (j) => {
      const c = j.jobSpec.workerPoolSpecs[0]?.containerSpec as Obj;
      return [c.imageUri, c.command, c.args];
    },
    ["img", ["python"], ["-m", "x"]],
  ],
  [
    "python_package_spec",
    "spec.worker_pool_specs[0]",
    {
      machine_spec: { machine_type: "e2-standard-8" },
      python_package_spec: {
        executor_image_uri: "exec",
        package_uris: ["gs://bkt/p.tar.gz"],
        python_module: "trainer.task",
        args: ["--a"],
      },
    },
    (j) => {
      const p = j.jobSpec.workerPoolSpecs[0]?.pythonPackageSpec as Obj;
      return [
        p.executorImageUri,
        p.packageUris,
        p.pythonModule,
        p.args,
        j.jobSpec.workerPoolSpecs[0]?.containerSpec,
      ];
    },
    ["exec", ["gs://bkt/p.tar.gz"], "trainer.task", ["--a"], undefined],
  ],
  [
    "staging_bucket with a path",
    "spec.staging_bucket",
    "gs://acme-staging/jobs/",
    (j) => j.jobSpec.baseOutputDirectory,
    { outputUriPrefix: "gs://acme-staging/jobs/run1" },
  ],
  [
    "base_output_dir",
    "spec.base_output_dir",
    "gs://out-bucket/x/${run_id}",
    (j) => j.jobSpec.baseOutputDirectory,
    { outputUriPrefix: "gs://out-bucket/x/run1" },
  ],
  [
    "encryption_spec_key_name",
    "spec.encryption_spec_key_name",
    "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k",
    (j) => j.encryptionSpec,
    { kmsKeyName: "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k" },
  ],
  ["display_name", "spec.display_name", "train ${run_id}", (j) => j.displayName, "train run1"],
  [
    "timeout → Duration",
    "run.timeout",
    3600,
    (j) => (j.jobSpec.scheduling as Obj).timeout,
    { seconds: 3600 },
  ],
  [
    "restart_job_on_worker_restart",
    "run.restart_job_on_worker_restart",
    true,
    (j) => j.jobSpec.scheduling,
    { restartJobOnWorkerRestart: true },
  ],
  [
    "disable_retries",
    "run.disable_retries",
    true,
    (j) => j.jobSpec.scheduling,
    { disableRetries: true },
  ],
  [
    "scheduling_strategy → enum name",
    "run.scheduling_strategy",
    "SPOT",
    (j) => j.jobSpec.scheduling,
    { strategy: "SPOT" },
  ],
  [
    "network",
    "run.network",
    "projects/123/global/networks/vpc",
    (j) => j.jobSpec.network,
    "projects/123/global/networks/vpc",
  ],
  ["enable_web_access", "run.enable_web_access", true, (j) => j.jobSpec.enableWebAccess, true],
  [
    "enable_web_access false is left out",
    "run.enable_web_access",
    false,
    (j) => "enableWebAccess" in j.jobSpec,
    false,
  ],
  [
    "enable_dashboard_access",
    "run.enable_dashboard_access",
    true,
    (j) => j.jobSpec.enableDashboardAccess,
    true,
  ],
  [
    "tensorboard",
    "run.tensorboard",
    "projects/p/locations/us-central1/tensorboards/7",
    (j) => j.jobSpec.tensorboard,
    "projects/p/locations/us-central1/tensorboards/7",
  ],
  [
    "persistent_resource_id",
    "run.persistent_resource_id",
    "pool-a",
    (j) => j.jobSpec.persistentResourceId,
    "pool-a",
  ],
  [
    "sync is ignored",
    "run.sync",
    true,
    (j) => Object.keys(j.jobSpec).some((k) => /sync/i.test(k)),
    false,
  ],
  [
    "synchronous is ignored",
    "run.synchronous",
    false,
    (j) => Object.keys(j.jobSpec).some((k) => /sync/i.test(k)),
    false,
  ],
];

describe("resolve: every spec/run key becomes its proto field", () => {
  for (const [title, path, value, pick, expected] of FIELDS) {
    it(title, () => {
      assert.deepEqual(pick(job(set(baseQueue(), path, value))), expected);
    });
  }
  it("FLEX_START with max_wait_duration", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].machine_spec", {
      machine_type: "g2-standard-8",
      accelerator_type: "NVIDIA_L4",
      accelerator_count: 1,
    });
    set(q, "run", {
      service_account: "t@p.iam.gserviceaccount.com",
      scheduling_strategy: "FLEX_START",
      max_wait_duration: 7200,
      timeout: 28800,
    });
    assert.deepEqual(job(q).jobSpec.scheduling, {
      timeout: { seconds: 28800 },
      strategy: "FLEX_START",
      maxWaitDuration: { seconds: 7200 },
    });
  });
  it("reserved_ip_ranges with a network", () => {
    const q = set(
      set(baseQueue(), "run.network", "projects/123/global/networks/vpc"),
      "run.reserved_ip_ranges",
      ["r1", "r2"],
    );
    assert.deepEqual(job(q).jobSpec.reservedIpRanges, ["r1", "r2"]);
  });
  it("experiment and experiment_run names become context resource names in the job's region", () => {
    const q = set(set(baseQueue(), "run.experiment", "exp1"), "run.experiment_run", "r7");
    const j = job(q);
    assert.equal(
      j.jobSpec.experiment,
      "projects/acme-ml/locations/us-central1/metadataStores/default/contexts/exp1",
    );
    assert.equal(
      j.jobSpec.experimentRun,
      "projects/acme-ml/locations/us-central1/metadataStores/default/contexts/exp1-r7",
    );
  });
  it("full experiment resource names pass through", () => {
    const name = "projects/p/locations/us-central1/metadataStores/default/contexts/e";
    assert.equal(job(set(baseQueue(), "run.experiment", name)).jobSpec.experiment, name);
  });
  it("the message's entry_point replaces command, and its args come before the pool's own, in every pool", () => {
    const q = baseQueue();
    set(q, "spec.worker_pool_specs[0].container_spec.command", ["old"]);
    set(q, "spec.worker_pool_specs[0].container_spec.args", ["old-arg"]);
    const pools = (q.spec as { worker_pool_specs: Obj[] }).worker_pool_specs;
    pools.push(structuredClone(pools[0] as Obj));
    const j = job(q, {
      ...baseMessage(),
      entry_point: ["python", "-m", "train"],
      args: ["--epochs", "3"],
    });
    for (const p of j.jobSpec.workerPoolSpecs) {
      assert.deepEqual((p.containerSpec as Obj).command, ["python", "-m", "train"]);
      assert.deepEqual((p.containerSpec as Obj).args, ["--epochs", "3", "old-arg"]);
    }
  });
  it("the message's args come before a python package's own args", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0]", {
      machine_spec: { machine_type: "e2-standard-8" },
      python_package_spec: {
        executor_image_uri: "exec",
        package_uris: ["gs://bkt/p"],
        python_module: "m",
        args: ["old"],
      },
    });
    const pool = job(q, { ...baseMessage(), args: ["new"] }).jobSpec.workerPoolSpecs[0] as Obj;
    assert.deepEqual((pool.pythonPackageSpec as Obj).args, ["new", "old"]);
  });
  it("never leaves a snake_case key in the object handed to the client", () => {
    const q = set(baseQueue(), "run", {
      service_account: "t@p.iam.gserviceaccount.com",
      timeout: 60,
      restart_job_on_worker_restart: true,
      enable_web_access: true,
    });
    const walk = (v: unknown): string[] =>
      Array.isArray(v)
        ? v.flatMap(walk)
        : v && typeof v === "object"
          ? Object.entries(v).flatMap(([k, x]) => [k, ...walk(x)])
          : [];
    const keys = walk(job(q)).filter((k) => k.includes("_"));
    // Only label keys and env names may hold an underscore... env names are values, label keys are map keys.
    assert.deepEqual(
      keys.filter((k) => !/^(wandb|launch|managed)/.test(k)),
      [],
    );
  });
});

describe("resolve: service account", () => {
  const sa = (who: string) => `${who}@acme-ml.iam.gserviceaccount.com`;
  const withSa = (run?: string, spec?: string, queue?: string) => {
    const q = set(baseQueue(), "run.service_account", run);
    if (spec) set(q, "spec.service_account", spec);
    if (queue) q.service_account = queue;
    return q;
  };
  const CASES: Array<[string, Obj, string | undefined, string]> = [
    [
      "run wins over the queue key",
      withSa(sa("run"), undefined, sa("queue")),
      undefined,
      sa("run"),
    ],
    [
      "spec is accepted (the W&B docs' place)",
      withSa(undefined, sa("spec")),
      undefined,
      sa("spec"),
    ],
    ["run and spec may agree", withSa(sa("same"), sa("same")), undefined, sa("same")],
    [
      "the queue's service_account",
      withSa(undefined, undefined, sa("queue")),
      undefined,
      sa("queue"),
    ],
    ["then DEFAULT_JOB_SERVICE_ACCOUNT", withSa(), sa("default"), sa("default")],
  ];
  for (const [title, q, fallback, expected] of CASES) {
    it(title, () => {
      const r = resolveRaw(q, baseMessage(), {
        project: "acme-ml",
        ...(fallback ? { defaultServiceAccount: fallback } : {}),
      });
      assert.equal((r.customJob.jobSpec as Obj).serviceAccount, expected);
    });
  }
  it("two different values are an error", () => {
    const err = caught(() => resolveRaw(withSa(sa("a"), sa("b")), baseMessage()));
    assert.equal(err.kind, "invalid_config");
    assertIssue(err, "run.service_account", /differs from spec.service_account/);
  });
  it("none at all is an error that says where to set one", () => {
    const err = caught(() => resolveRaw(withSa(), baseMessage()));
    assertIssue(
      err,
      "run.service_account",
      /no service account: set run.service_account.*DEFAULT_JOB_SERVICE_ACCOUNT/,
    );
  });
  it("a default that is not a service-account email is an error", () => {
    const err = caught(() =>
      resolveRaw(withSa(), baseMessage(), {
        project: "acme-ml",
        defaultServiceAccount: "me@example.com",
      }),
    );
    assertIssue(err, "run.service_account", /not a service-account email/);
  });
});

describe("resolve: display name", () => {
  it("spec.display_name first", () => {
    assert.equal(
      job(set(baseQueue(), "spec.display_name", "mine"), { ...baseMessage(), name: "run-name" })
        .displayName,
      "mine",
    );
  });
  it("then the message's name", () => {
    assert.equal(job(baseQueue(), { ...baseMessage(), name: "run-name" }).displayName, "run-name");
  });
  it("then wandb-{run_id}", () => {
    assert.equal(job(baseQueue()).displayName, "wandb-run1");
  });
  it("a spec.display_name over 128 characters is an error", () => {
    const err = caught(() =>
      resolveRaw(set(baseQueue(), "spec.display_name", "x".repeat(129)), baseMessage()),
    );
    assertIssue(err, "spec.display_name", /at most 128 characters, got 129/);
  });
  it("128 characters are fine", () => {
    assert.equal(
      (job(set(baseQueue(), "spec.display_name", "é".repeat(128))).displayName as string).length,
      128,
    );
  });
  it("a long run name is cut to 128 characters with a warning", () => {
    const r = resolveRaw(baseQueue(), { ...baseMessage(), name: "n".repeat(300) });
    assert.equal((r.customJob.displayName as string).length, 128);
    assertWarning(r.warnings, /cut to fit/);
  });
});

describe("resolve: project, region, and other rules", () => {
  it("the queue's project and region win over the defaults", () => {
    const r = resolveRaw(
      { ...baseQueue(), project: "queue-proj", region: "europe-west4" },
      baseMessage(),
      { project: "default-proj", region: "us-east1" },
    );
    assert.equal(r.parent, "projects/queue-proj/locations/europe-west4");
  });
  it("the defaults fill what the queue leaves out", () => {
    const q = baseQueue();
    delete q.region;
    const r = resolveRaw(q, baseMessage(), { project: "default-proj", region: "us-east1" });
    assert.equal(r.parent, "projects/default-proj/locations/us-east1");
  });
  it("no project is an error", () => {
    const err = caught(() => resolveRaw(baseQueue(), baseMessage(), {}));
    assertIssue(err, "project", /no GCP project.*--project/);
  });
  it("a malformed default project is an error", () => {
    const err = caught(() => resolveRaw(baseQueue(), baseMessage(), { project: "Bad Project" }));
    assertIssue(err, "project", /not a GCP project id/);
  });
  it("no region is an error", () => {
    const q = baseQueue();
    delete q.region;
    const err = caught(() => resolveRaw(q, baseMessage()));
    assertIssue(err, "region", /no Vertex region.*--region/);
  });
  it("reserved_ip_ranges without a network is an error", () => {
    const err = caught(() =>
      resolveRaw(set(baseQueue(), "run.reserved_ip_ranges", ["r"]), baseMessage()),
    );
    assertIssue(err, "run.reserved_ip_ranges", /set run.network too/);
  });
  it("experiment_run without experiment is an error", () => {
    const err = caught(() =>
      resolveRaw(set(baseQueue(), "run.experiment_run", "r"), baseMessage()),
    );
    assertIssue(err, "run.experiment_run", /needs run.experiment/);
  });
  it("a malformed experiment resource name is an error", () => {
    const err = caught(() =>
      resolveRaw(set(baseQueue(), "run.experiment", "projects/p/x"), baseMessage()),
    );
    assertIssue(err, "run.experiment", /metadataStores/);
  });
  it("a bare experiment name must be a Vertex metadata context id", () => {
    const err = caught(() =>
      resolveRaw(set(baseQueue(), "run.experiment", "My Exp"), baseMessage()),
    );
    assert.equal(err.kind, "invalid_config");
    assertIssue(
      err,
      "run.experiment",
      /context id: lowercase letters, digits and hyphens.*\[a-z0-9\]\[a-z0-9-\]\{0,127\}.*got "My Exp"/,
    );
    caught(() => resolveRaw(set(baseQueue(), "run.experiment", "x".repeat(129)), baseMessage()));
    resolveRaw(set(baseQueue(), "run.experiment", "x".repeat(128)), baseMessage());
  });
  it("a bare experiment run must make a valid context id EXPERIMENT-RUN", () => {
    const q = set(baseQueue(), "run.experiment", "exp1");
    assertIssue(
      caught(() => resolveRaw(set(q, "run.experiment_run", "Run_1"), baseMessage())),
      "run.experiment_run",
      /got "exp1-Run_1"/,
    );
    assertIssue(
      caught(() =>
        resolveRaw(
          set(
            set(baseQueue(), "run.experiment", "e".repeat(120)),
            "run.experiment_run",
            "r".repeat(8),
          ),
          baseMessage(),
        ),
      ),
      "run.experiment_run",
      /at most 128 characters/,
    );
  });
  it("max_wait_duration without FLEX_START warns", () => {
    const r = resolveRaw(set(baseQueue(), "run.max_wait_duration", 60), baseMessage());
    assertWarning(r.warnings, /FLEX_START only/);
  });
  it("disable_retries with restart_job_on_worker_restart warns", () => {
    const q = set(
      set(baseQueue(), "run.disable_retries", true),
      "run.restart_job_on_worker_restart",
      true,
    );
    assertWarning(resolveRaw(q, baseMessage()).warnings, /overrides restart_job_on_worker_restart/);
  });
  it("entry_point with a python package pool is an error in the message", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0]", {
      machine_spec: { machine_type: "e2-standard-8" },
      python_package_spec: {
        executor_image_uri: "e",
        package_uris: ["gs://bkt/p"],
        python_module: "m",
      },
    });
    const err = caught(() => resolveRaw(q, { ...baseMessage(), entry_point: ["python"] }));
    assert.equal(err.kind, "invalid_message");
    assertIssue(err, "message.entry_point", /python_package_spec.*remove entry_point/);
  });
  it("a cancel message is not resolved", () => {
    const err = caught(() =>
      resolveRaw(baseQueue(), { action: "cancel", queue: "q", run_id: "r" }),
    );
    assert.equal(err.kind, "invalid_message");
    assertIssue(err, "message.action", /only "launch" messages/);
    assert.match(err.message, /^ {2}message\.action: only "launch" messages/m);
  });
  it("imageUris lists every distinct image", () => {
    const q = baseQueue();
    const pools = (q.spec as { worker_pool_specs: Obj[] }).worker_pool_specs;
    pools.push({
      machine_spec: { machine_type: "n1-standard-4" },
      replica_count: 2,
      container_spec: { image_uri: "gcr.io/p/other:1" },
    });
    pools.push({
      machine_spec: { machine_type: "n1-standard-4" },
      replica_count: 1,
      container_spec: { image_uri: "${image_uri}" },
    });
    assert.deepEqual(resolveRaw(q, baseMessage()).imageUris, [
      "us-central1-docker.pkg.dev/acme-ml/train/img:1",
      "gcr.io/p/other:1",
    ]);
  });
  it("outputBucket follows base_output_dir", () => {
    assert.equal(
      resolveRaw(set(baseQueue(), "spec.base_output_dir", "gs://other-bucket/o"), baseMessage())
        .outputBucket,
      "other-bucket",
    );
  });
  it("is deterministic: the same input gives the same request", () => {
    assert.deepEqual(
      resolveRaw(baseQueue(), baseMessage()),
      resolveRaw(baseQueue(), baseMessage()),
    );
  });
  it("lists every problem at once", () => {
    const q = set(set(baseQueue(), "spec.display_name", "x".repeat(200)), "spec.labels", {
      Bad: "v",
    });
    set(q, "spec.worker_pool_specs[0].machine_spec.machine_type", "n1-standard-5");
    const err = caught(() => resolveRaw(q, baseMessage(), {}));
    assert.deepEqual(err.issues.map((i) => i.path).sort(), [
      "project",
      "spec.display_name",
      "spec.labels.Bad",
      "spec.worker_pool_specs[0].machine_spec.machine_type",
    ]);
  });
});
