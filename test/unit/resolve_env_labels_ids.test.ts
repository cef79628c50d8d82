// Env injection (order, WANDB_CONFIG chunking, duplicates, ≤100, the secret), labels
// (ours, sanitising, user label rules) and launch identities (SPEC §2, §4).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildEnv, WANDB_CONFIG_CHUNK, wandbConfigEnv } from "../../shared/resolve/env.js";
import { idempotencyKeyFor, launchIdFor, runIdFor } from "../../shared/resolve/ids.js";
import { LABEL_VALUE_RE, sanitizeLabelValue } from "../../shared/resolve/labels.js";
import { parseLaunchMessage } from "../../shared/schemas/message.js";
import {
  assertIssue,
  baseMessage,
  baseQueue,
  caught,
  resolveRaw,
  set,
} from "../helpers/resolve_fixtures.js";

type Obj = Record<string, unknown>;
type Env = Array<{ name: string; value: string }>;
const envOf = (r: { customJob: Obj }, pool = 0) =>
  (
    ((r.customJob.jobSpec as { workerPoolSpecs: Obj[] }).workerPoolSpecs[pool] as Obj)
      .containerSpec as { env: Env }
  ).env;

describe("env: the W&B variables", () => {
  it("are appended after the queue's env, in SPEC §4's order, then the message's env", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.env", [
      { name: "NCCL_DEBUG", value: "WARN" },
    ]);
    const m = {
      ...baseMessage(),
      name: "n",
      author: "mira",
      job: "acme/vision/job:v1",
      run_config: { lr: 0.1 },
      env: { EXTRA: "1" },
    };
    const r = resolveRaw(q, m, {
      project: "acme-ml",
      wandbApiKey: "k-123",
      wandbBaseUrl: "https://wandb.example.com",
    });
    assert.deepEqual(envOf(r), [
      { name: "NCCL_DEBUG", value: "WARN" },
      { name: "WANDB_BASE_URL", value: "https://wandb.example.com" },
      { name: "WANDB_API_KEY", value: "k-123" },
      { name: "WANDB_ENTITY", value: "acme" },
      { name: "WANDB_PROJECT", value: "vision" },
      { name: "WANDB_RUN_ID", value: "run1" },
      { name: "WANDB_LAUNCH", value: "True" },
      { name: "WANDB_LAUNCH_QUEUE_NAME", value: "q" },
      { name: "WANDB_LAUNCH_QUEUE_ENTITY", value: "acme" },
      { name: "WANDB_NAME", value: "n" },
      { name: "WANDB_USERNAME", value: "mira" },
      { name: "WANDB_DOCKER", value: "us-central1-docker.pkg.dev/acme-ml/train/img:1" },
      { name: "WANDB_CONFIG", value: '{"lr":0.1}' },
      { name: "WANDB_ARTIFACTS", value: '{"_wandb_job":"acme/vision/job:v1"}' },
      { name: "EXTRA", value: "1" },
    ]);
  });
  it("leave out what the message does not give; WANDB_BASE_URL defaults to api.wandb.ai; no key without the dispatcher's secret", () => {
    const names = envOf(resolveRaw(baseQueue(), baseMessage())).map((e) => e.name);
    assert.deepEqual(names, [
      "WANDB_BASE_URL",
      "WANDB_ENTITY",
      "WANDB_PROJECT",
      "WANDB_RUN_ID",
      "WANDB_LAUNCH",
      "WANDB_LAUNCH_QUEUE_NAME",
      "WANDB_LAUNCH_QUEUE_ENTITY",
      "WANDB_DOCKER",
      "WANDB_CONFIG",
    ]);
    assert.equal(envOf(resolveRaw(baseQueue(), baseMessage()))[0]?.value, "https://api.wandb.ai");
  });
  it("go into every pool, with each pool's own image as WANDB_DOCKER", () => {
    const q = baseQueue();
    (q.spec as { worker_pool_specs: Obj[] }).worker_pool_specs.push({
      machine_spec: { machine_type: "n1-standard-4" },
      container_spec: { image_uri: "gcr.io/p/other:1" },
    });
    const r = resolveRaw(q, baseMessage());
    assert.equal(envOf(r, 1).find((e) => e.name === "WANDB_DOCKER")?.value, "gcr.io/p/other:1");
    assert.equal(envOf(r, 1).find((e) => e.name === "WANDB_RUN_ID")?.value, "run1");
  });
  it("go into python package pools too", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0]", {
      machine_spec: { machine_type: "e2-standard-8" },
      python_package_spec: {
        executor_image_uri: "exec:1",
        package_uris: ["gs://bkt/p"],
        python_module: "m",
        env: [{ name: "A", value: "1" }],
      },
    });
    const pool = (resolveRaw(q, baseMessage()).customJob.jobSpec as { workerPoolSpecs: Obj[] })
      .workerPoolSpecs[0] as Obj;
    const env = (pool.pythonPackageSpec as { env: Env }).env;
    assert.equal(env[0]?.name, "A");
    assert.equal(env.find((e) => e.name === "WANDB_DOCKER")?.value, "exec:1");
  });
});

describe("env: WANDB_CONFIG chunking", () => {
  it("keeps WANDB_CONFIG whole up to 32,670 characters", () => {
    const config = { k: "x".repeat(WANDB_CONFIG_CHUNK - 8) }; // {"k":"..."} = 8 + n characters
    const env = wandbConfigEnv(config);
    assert.equal(env.length, 1);
    assert.equal(env[0]?.name, "WANDB_CONFIG");
    assert.equal(env[0]?.value.length, WANDB_CONFIG_CHUNK);
  });
  it("splits into WANDB_CONFIG_0..N past 32,670 characters, and the parts join back", () => {
    const config = { k: "x".repeat(WANDB_CONFIG_CHUNK * 2) };
    const env = wandbConfigEnv(config);
    assert.deepEqual(
      env.map((e) => e.name),
      ["WANDB_CONFIG_0", "WANDB_CONFIG_1", "WANDB_CONFIG_2"],
    );
    assert.ok(
      env.every((e) => e.value.length <= WANDB_CONFIG_CHUNK),
      "every chunk fits",
    );
    assert.deepEqual(JSON.parse(env.map((e) => e.value).join("")), config);
  });
  it("is ASCII JSON (non-ASCII escaped as \\uXXXX, as Python's json.dumps writes it)", () => {
    const config = { ü: "naïve 😀", n: 1 };
    const value = wandbConfigEnv(config)[0]?.value ?? "";
    assert.equal(value, '{"\\u00fc":"na\\u00efve \\ud83d\\ude00","n":1}');
    assert.deepEqual(JSON.parse(value), config);
  });
  it("never cuts a character in two at a chunk boundary: every chunk is ASCII and they join back", () => {
    // {"a":" is 6 characters: the emoji starts at index 32,669, the last of chunk 0.
    const config = { a: `${"x".repeat(32_663)}😀tail` };
    const env = wandbConfigEnv(config);
    assert.deepEqual(
      env.map((e) => e.name),
      ["WANDB_CONFIG_0", "WANDB_CONFIG_1"],
    );
    for (const e of env) {
      assert.match(e.value, /^[\x20-\x7e]*$/, `${e.name} is printable ASCII`);
      assert.equal(
        Buffer.from(e.value, "utf8").toString("utf8"),
        e.value,
        `${e.name} survives UTF-8`,
      );
      assert.ok(e.value.length <= WANDB_CONFIG_CHUNK);
    }
    assert.equal(env[0]?.value.length, WANDB_CONFIG_CHUNK, "the threshold is unchanged");
    assert.deepEqual(JSON.parse(env.map((e) => e.value).join("")), config);
  });
  it("counts the escaped length against the threshold", () => {
    // 8 + 6 × 5,444 = 32,672 escaped characters (5,452 UTF-16 units unescaped): split.
    const env = wandbConfigEnv({ k: "é".repeat(5_444) });
    assert.equal(env.length, 2);
    assert.deepEqual(JSON.parse(env.map((e) => e.value).join("")), { k: "é".repeat(5_444) });
    // 8 + 6 × 5,443 = 32,666: whole.
    assert.equal(wandbConfigEnv({ k: "é".repeat(5_443) }).length, 1);
  });
  it("chunks land in the request in place of WANDB_CONFIG", () => {
    const r = resolveRaw(baseQueue(), { ...baseMessage(), run_config: { k: "y".repeat(40_000) } });
    const names = envOf(r).map((e) => e.name);
    assert.ok(
      names.includes("WANDB_CONFIG_0") &&
        names.includes("WANDB_CONFIG_1") &&
        !names.includes("WANDB_CONFIG"),
      names.join(","),
    );
  });
});

describe("env: errors", () => {
  it("a name set twice in the queue is an error", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.env", [
      { name: "A", value: "1" },
      { name: "A", value: "2" },
    ]);
    assertIssue(
      caught(() => resolveRaw(q, baseMessage())),
      "spec.worker_pool_specs[0].container_spec.env[1]",
      /A is set twice \(the queue config and the queue config\)/,
    );
  });
  it("a queue env that sets a W&B variable is an error", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.env", [
      { name: "WANDB_PROJECT", value: "x" },
    ]);
    assertIssue(
      caught(() => resolveRaw(q, baseMessage())),
      "spec.worker_pool_specs[0].container_spec.env",
      /WANDB_PROJECT is set twice/,
    );
  });
  it("a message env that repeats a queue variable is an error in the message", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.env", [
      { name: "A", value: "1" },
    ]);
    const err = caught(() => resolveRaw(q, { ...baseMessage(), env: { A: "2" } }));
    assertIssue(err, "message.env.A", /A is set twice \(the queue config and the launch message\)/);
  });
  it("a message env that sets a W&B variable is an error", () => {
    const err = caught(() =>
      resolveRaw(baseQueue(), { ...baseMessage(), env: { WANDB_ENTITY: "other" } }),
    );
    assert.equal(err.kind, "invalid_message");
    assertIssue(err, "message.env.WANDB_ENTITY", /set twice/);
  });
  it("more than 100 variables is an error", () => {
    const env = Object.fromEntries(Array.from({ length: 92 }, (_, i) => [`V${i}`, "x"]));
    const err = caught(() => resolveRaw(baseQueue(), { ...baseMessage(), env }));
    assertIssue(
      err,
      "spec.worker_pool_specs[0].container_spec.env",
      /at most 100 environment variables per container, got 101/,
    );
  });
  it("exactly 100 is fine", () => {
    const env = Object.fromEntries(Array.from({ length: 91 }, (_, i) => [`V${i}`, "x"]));
    assert.equal(envOf(resolveRaw(baseQueue(), { ...baseMessage(), env })).length, 100);
  });
  it("a queue env may not set WANDB_API_KEY: the dispatcher injects it from its secret", () => {
    const leaked = "sk-queue-level-secret-456";
    for (const wandbApiKey of [undefined, "sk-very-secret-value-123"]) {
      const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.env", [
        { name: "A", value: "1" },
        { name: "WANDB_API_KEY", value: leaked },
      ]);
      const err = caught(() => resolveRaw(q, baseMessage(), { project: "acme-ml", wandbApiKey }));
      assert.equal(err.kind, "invalid_config");
      assertIssue(
        err,
        "spec.worker_pool_specs[0].container_spec.env[1].name",
        /WANDB_API_KEY may not be set in a worker pool's env: the dispatcher injects it from its own secret/,
      );
      const text = JSON.stringify(err.toJSON()) + err.message;
      assert.ok(!text.includes(leaked), "the queue's value leaked into the error");
      if (wandbApiKey) assert.ok(!text.includes(wandbApiKey), "the secret leaked into the error");
    }
  });
  it("a python package pool's env may not set it either", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0]", {
      machine_spec: { machine_type: "e2-standard-8" },
      python_package_spec: {
        executor_image_uri: "exec:1",
        package_uris: ["gs://bkt/p"],
        python_module: "m",
        env: [{ name: "WANDB_API_KEY", value: "x" }],
      },
    });
    assertIssue(
      caught(() => resolveRaw(q, baseMessage())),
      "spec.worker_pool_specs[0].python_package_spec.env[0].name",
      /dispatcher injects it/,
    );
  });
  it("a message may not smuggle WANDB_API_KEY in through resource_args", () => {
    const leaked = "sk-from-the-message-789";
    const q = set(baseQueue(), "allow_resource_overrides", true);
    const container = {
      ...baseMessage(),
      resource_args: {
        "gcp-vertex": {
          spec: {
            worker_pool_specs: [
              {
                machine_spec: { machine_type: "n1-standard-4" },
                container_spec: {
                  image_uri: "gcr.io/p/i:1",
                  env: [{ name: "WANDB_API_KEY", value: leaked }],
                },
              },
            ],
          },
        },
      },
    };
    const python = {
      ...baseMessage(),
      resource_args: {
        vertex: {
          spec: {
            worker_pool_specs: [
              {
                machine_spec: { machine_type: "e2-standard-8" },
                python_package_spec: {
                  executor_image_uri: "exec:1",
                  package_uris: ["gs://bkt/p"],
                  python_module: "m",
                  env: [{ name: "WANDB_API_KEY", value: leaked }],
                },
              },
            ],
          },
        },
      },
    };
    for (const [m, section] of [
      [container, "container_spec"],
      [python, "python_package_spec"],
    ] as const) {
      for (const wandbApiKey of [undefined, "sk-dispatcher"]) {
        const err = caught(() => resolveRaw(q, m, { project: "acme-ml", wandbApiKey }));
        assert.equal(err.kind, "invalid_message");
        assertIssue(
          err,
          `spec.worker_pool_specs[0].${section}.env[0].name`,
          /WANDB_API_KEY may not be set in a worker pool's env: the dispatcher injects it from its own secret.*\(set by the message's resource_args\)/,
        );
        const text = JSON.stringify(err.toJSON()) + err.message;
        assert.ok(!text.includes(leaked), "the message's value leaked into the error");
      }
    }
  });
  it("the message may not set WANDB_API_KEY at all", () => {
    assertIssue(
      caught(() => parseLaunchMessage({ ...baseMessage(), env: { WANDB_API_KEY: "x" } })),
      "env.WANDB_API_KEY",
      /not allowed/,
    );
  });
  it("buildEnv reports without values", () => {
    const { issues } = buildEnv(
      [{ name: "X", value: "v1-secret" }],
      [{ name: "X", value: "v2-secret" }],
      undefined,
      "p",
    );
    assert.ok(!JSON.stringify(issues).includes("secret"), JSON.stringify(issues));
  });
});

describe("labels", () => {
  it("the dispatcher adds its own labels after the queue's", () => {
    const q = set(baseQueue(), "spec.labels", { team: "vision", "cost-center": "ml_1" });
    const r = resolveRaw(q, baseMessage());
    assert.deepEqual(r.customJob.labels, {
      team: "vision",
      "cost-center": "ml_1",
      "managed-by": "vertex-dispatch",
      "wandb-run-id": "run1",
      "launch-queue": "q",
      "wandb-entity": "acme",
      "wandb-project": "vision",
      "launch-id": r.launchId,
    });
  });
  it("our values are sanitised deterministically to Google's rules", () => {
    const r = resolveRaw(baseQueue(), {
      ...baseMessage(),
      entity: "Acme Corp",
      project: `Vision.Team/2026${"x".repeat(80)}`,
    });
    const labels = r.customJob.labels as Record<string, string>;
    assert.equal(labels["wandb-entity"], "acme-corp");
    assert.equal(labels["wandb-project"], `vision-team-2026${"x".repeat(47)}`);
    for (const v of Object.values(labels)) assert.match(v, LABEL_VALUE_RE);
  });
  const SANITISE: Array<[string, string]> = [
    ["Run_01", "run_01"],
    ["a.b c", "a-b-c"],
    ["ÜBER", "-ber"],
    ["x".repeat(70), "x".repeat(63)],
    ["", ""],
  ];
  for (const [input, expected] of SANITISE) {
    it(`sanitizeLabelValue(${JSON.stringify(input.slice(0, 12))})`, () => {
      assert.equal(sanitizeLabelValue(input), expected);
      assert.equal(sanitizeLabelValue(input), sanitizeLabelValue(input));
    });
  }
  const BAD: Array<[string, Record<string, string>, string, RegExp]> = [
    [
      "uppercase key",
      { Team: "v" },
      "spec.labels.Team",
      /label key "Team" breaks Google's label rules/,
    ],
    [
      "key starting with a digit",
      { "1team": "v" },
      "spec.labels.1team",
      /start with a lowercase letter/,
    ],
    ["key too long", { ["k".repeat(64)]: "v" }, `spec.labels.${"k".repeat(64)}`, /1-63 characters/],
    ["value with a dot", { team: "v.1" }, "spec.labels.team", /label value "v.1" breaks/],
    ["value too long", { team: "v".repeat(64) }, "spec.labels.team", /at most 63/],
    [
      "a dispatcher key",
      { "launch-id": "x" },
      "spec.labels.launch-id",
      /set by vertex-dispatch; choose another key/,
    ],
  ];
  for (const [title, labels, path, message] of BAD) {
    it(`a user label that breaks the rules is an error: ${title}`, () => {
      const err = caught(() => resolveRaw(set(baseQueue(), "spec.labels", labels), baseMessage()));
      assert.equal(err.kind, "invalid_config");
      assertIssue(err, path, message);
    });
  }
  it("international lowercase letters are allowed in user labels", () => {
    resolveRaw(set(baseQueue(), "spec.labels", { équipe: "vision" }), baseMessage());
  });
  it("at most 64 labels in all (58 of the user's)", () => {
    const many = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, "v"]));
    resolveRaw(set(baseQueue(), "spec.labels", many(58)), baseMessage());
    assertIssue(
      caught(() => resolveRaw(set(baseQueue(), "spec.labels", many(59)), baseMessage())),
      "spec.labels",
      /at most 58 labels/,
    );
  });
});

describe("ids", () => {
  const m = (extra: Obj = {}) =>
    parseLaunchMessage({ queue: "q", entity: "e", project: "p", ...extra });
  it("the idempotency key: the attribute first", () => {
    assert.equal(idempotencyKeyFor(m({ run_id: "r" }), { idempotency_key: "k1" }, "mid"), "k1");
  });
  it("then queue/entity/project/run_id", () => {
    assert.equal(idempotencyKeyFor(m({ run_id: "r" }), {}, "mid"), "q/e/p/r");
  });
  it("then the Pub/Sub message id", () => {
    assert.equal(idempotencyKeyFor(m(), {}, "mid-42"), "mid-42");
    assert.equal(idempotencyKeyFor(m(), { idempotency_key: "" }, "mid-42"), "mid-42");
  });
  it("the launch id is a 20-character hex hash, a valid label value, stable per key", () => {
    const id = launchIdFor("q/e/p/r");
    assert.match(id, /^[0-9a-f]{20}$/);
    assert.equal(launchIdFor("q/e/p/r"), id);
    assert.notEqual(launchIdFor("q/e/p/r2"), id);
  });
  it("the run id is the message's when given", () => {
    assert.equal(runIdFor(m({ run_id: "given" }), "k"), "given");
  });
  it("else 8 characters [a-z0-9] derived from the idempotency key: a redelivery gets the same id", () => {
    const a = runIdFor(m(), "mid-1");
    assert.match(a, /^[a-z0-9]{8}$/);
    assert.equal(runIdFor(m(), "mid-1"), a);
    assert.notEqual(runIdFor(m(), "mid-2"), a);
    const seen = new Set(Array.from({ length: 2000 }, (_, i) => runIdFor(m(), `k${i}`)));
    assert.equal(seen.size, 2000);
  });
  it("the derived run id names the job, the env and the output directory", () => {
    const msg = baseMessage();
    delete msg.run_id;
    const r = resolveRaw(baseQueue(), msg, { project: "acme-ml" }, "pubsub-message-7");
    assert.match(r.runId, /^[a-z0-9]{8}$/);
    assert.equal(r.customJob.displayName, `wandb-${r.runId}`);
    assert.equal(envOf(r).find((e) => e.name === "WANDB_RUN_ID")?.value, r.runId);
    assert.equal(r.launchId, launchIdFor("pubsub-message-7"));
  });
});
