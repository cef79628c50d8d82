/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B macros such as ${image_uri} are literal strings here. */
// `vertex-dispatch render` end to end, in-process through main(argv, env, io) on YAML and JSON
// queue files; one case spawns the built bin (a Node warning would reach the real stderr only).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import YAML from "yaml";
import { buildCli } from "../../scripts/build-cli.mjs";
import { cli } from "../helpers/cli.js";
import { baseMessage, baseQueue, FIXTURES, REPO_ROOT, set } from "../helpers/resolve_fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "vd-render-"));
const SECRET = "wandb-secret-9f8e7d6c";

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    typeof content === "string"
      ? content
      : name.endsWith(".json")
        ? JSON.stringify(content)
        : YAML.stringify(content),
  );
  return path;
}

function cleanEnv(env: Record<string, string>): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      v !== undefined &&
      !/^(GOOGLE_CLOUD_PROJECT|VERTEX_REGION|DEFAULT_JOB_SERVICE_ACCOUNT|WANDB_)/.test(k)
    )
      clean[k] = v;
  }
  return { ...clean, ...env };
}

async function run(args: string[], env: Record<string, string> = {}) {
  const r = await cli(["render", ...args], cleanEnv(env));
  return { code: r.code, stdout: r.out, stderr: r.err };
}

function spawnRun(args: string[]) {
  const r = spawnSync(process.execPath, ["bin/vertex-dispatch.mjs", "render", ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv({}),
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const message = file("m.json", { ...baseMessage(), queue: "q" });
type Obj = Record<string, unknown>;

describe("render", () => {
  it("prints the request as proto3 JSON for a YAML queue file", async () => {
    const queue = file("q.yaml", set(baseQueue(), "run.timeout", 3600));
    const r = await run(["--file", queue, "--message", message, "--project", "acme-ml"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      parent: string;
      customJob: { jobSpec: Obj & { workerPoolSpecs: Obj[] } };
    };
    assert.deepEqual(Object.keys(out), ["parent", "customJob"]);
    assert.equal(out.parent, "projects/acme-ml/locations/us-central1");
    assert.deepEqual(out.customJob.jobSpec.scheduling, { timeout: "3600s" });
    assert.equal(out.customJob.jobSpec.workerPoolSpecs[0]?.replicaCount, "1");
  });
  it("reads JSON queue files the same way", async () => {
    const yaml = await run([
      "--file",
      file("same.yaml", baseQueue()),
      "--message",
      message,
      "--project",
      "acme-ml",
    ]);
    const json = await run([
      "--file",
      file("same.json", baseQueue()),
      "--message",
      message,
      "--project",
      "acme-ml",
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), JSON.parse(yaml.stdout));
  });
  it("--project/--region stand in for GOOGLE_CLOUD_PROJECT/VERTEX_REGION; the environment works too", async () => {
    const q = baseQueue();
    delete q.region;
    const queue = file("noregion.yaml", q);
    const flags = await run([
      "--file",
      queue,
      "--message",
      message,
      "--project",
      "p-flags",
      "--region",
      "europe-west4",
    ]);
    assert.equal(flags.code, 0, flags.stderr);
    assert.equal(JSON.parse(flags.stdout).parent, "projects/p-flags/locations/europe-west4");
    const env = await run(["--file", queue, "--message", message], {
      GOOGLE_CLOUD_PROJECT: "p-envvar",
      VERTEX_REGION: "us-east1",
    });
    assert.equal(JSON.parse(env.stdout).parent, "projects/p-envvar/locations/us-east1");
  });
  it("an invalid project, region or service account names the flag it came from, else the variable", async () => {
    const q = baseQueue();
    delete q.region;
    delete (q.run as Record<string, unknown>).service_account;
    const queue = file("defaults.yaml", q);
    const flags = await run([
      "--file",
      queue,
      "--message",
      message,
      "--project",
      "Bad_Project",
      "--region",
      "us-centrall",
      "--service-account",
      "not-an-email",
    ]);
    assert.equal(flags.code, 2);
    assert.match(flags.stderr, /project: the default project "Bad_Project" \(--project\) is not/);
    assert.match(
      flags.stderr,
      /region: "us-centrall" is not a Vertex AI training region.*\(from --region\)/,
    );
    assert.match(
      flags.stderr,
      /run\.service_account: the default service account "not-an-email" \(--service-account\)/,
    );
    assert.doesNotMatch(
      flags.stderr,
      /GOOGLE_CLOUD_PROJECT|VERTEX_REGION\)|DEFAULT_JOB_SERVICE_ACCOUNT\)/,
    );
    const vars = await run(["--file", queue, "--message", message], {
      GOOGLE_CLOUD_PROJECT: "Bad_Project",
      VERTEX_REGION: "us-centrall",
      DEFAULT_JOB_SERVICE_ACCOUNT: "not-an-email",
    });
    assert.equal(vars.code, 2);
    assert.match(vars.stderr, /\(GOOGLE_CLOUD_PROJECT\) is not a GCP project id/);
    assert.match(vars.stderr, /\(from VERTEX_REGION\)/);
    assert.match(vars.stderr, /\(DEFAULT_JOB_SERVICE_ACCOUNT\) is not a service-account email/);
  });
  it("renders the seed's default config with a sample message", async () => {
    const r = await run([
      "--file",
      join(FIXTURES, "queues", "seed-default.yaml"),
      "--message",
      join(FIXTURES, "messages", "basic.json"),
      "--project",
      "acme-ml",
      "--region",
      "us-central1",
      "--service-account",
      "jobs@acme-ml.iam.gserviceaccount.com",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).customJob.displayName, "resnet50-baseline");
  });
  it("prints warnings on stderr and keeps stdout pure JSON", async () => {
    const queue = file(
      "warn.yaml",
      set(baseQueue(), "spec.worker_pool_specs[0].container_spec.args", ["${nope}"]),
    );
    const r = await run(["--file", queue, "--message", message, "--project", "acme-ml"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: .*unknown macro \$\{nope\}/m);
    JSON.parse(r.stdout);
  });
  it("exits 2 with every error (path and expectation) on stderr", async () => {
    const q = set(
      set(baseQueue(), "spec.staging_bucket", "Bad Bucket"),
      "spec.worker_pool_specs[0].machine_spec.machineType",
      "x",
    );
    set(q, "run.timeout", "1h");
    const r = await run([
      "--file",
      file("bad.yaml", q),
      "--message",
      message,
      "--project",
      "acme-ml",
    ]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /spec\.staging_bucket: expected a Cloud Storage URI "gs:\/\/bucket\[\/path\]"/,
    );
    assert.match(
      r.stderr,
      /spec\.worker_pool_specs\[0\]\.machine_spec\.machineType: keys are snake_case: write "machine_type"/,
    );
    assert.match(r.stderr, /run\.timeout: expected timeout as a whole number of seconds/);
  });
  it("exits 2 for an invalid message, a YAML syntax error, and resolution errors", async () => {
    const badMessage = file("bad-m.json", { queue: "q", entity: "e" });
    const m = await run([
      "--file",
      file("ok.yaml", baseQueue()),
      "--message",
      badMessage,
      "--project",
      "acme-ml",
    ]);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /project: required for a launch/);
    const y = await run(["--file", file("syntax.yaml", "spec: [\n"), "--message", message]);
    assert.equal(y.code, 2);
    assert.match(y.stderr, /not valid YAML/);
    const res = await run(["--file", file("noproj.yaml", baseQueue()), "--message", message]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /project: no GCP project.*--project/);
  });
  it("a cancel message has nothing to render: exit 2 with the issue's path", async () => {
    const cancel = file("cancel.json", { action: "cancel", queue: "q", run_id: "r" });
    const r = await run(["--file", file("c.yaml", baseQueue()), "--message", cancel]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^ {2}action: render prints the CustomJob of a "launch" message/m);
  });
  it("an unquoted {{gpus}} in YAML gives only the quoting hint, and no Node warning (the built bin)", async () => {
    await buildCli({ quiet: true });
    const text = YAML.stringify(
      set(baseQueue(), "spec.worker_pool_specs[0].machine_spec.accelerator_count", "GPUS"),
    ).replace("accelerator_count: GPUS", "accelerator_count: {{gpus}}");
    const q = `template_variables:\n  gpus:\n    schema: {type: integer}\n    default: 1\n${text}`;
    const r = spawnRun(["--file", file("unquoted.yaml", q), "--message", message]);
    assert.equal(r.code, 2);
    const issueLines = r.stderr.split("\n").filter((l) => l.startsWith("  "));
    assert.deepEqual(issueLines, [
      '  spec.worker_pool_specs[0].machine_spec.accelerator_count: quote template references in YAML: write "{{gpus}}" (a bare {{ starts a YAML mapping)',
    ]);
    assert.doesNotMatch(r.stderr, /Warning|stringified/);
  });
  it("exits 2 on usage errors", async () => {
    assert.equal((await run([])).code, 2);
    assert.equal((await run(["--file", "x.yaml"])).code, 2);
    assert.equal((await run(["--file", "x.yaml", "--message", "y.json", "--bogus"])).code, 2);
    const missing = await run(["--file", join(dir, "nope.yaml"), "--message", message]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the queue file/);
  });
  it("never prints the W&B API key: it shows <redacted> instead", async () => {
    const r = await run(
      ["--file", file("s.yaml", baseQueue()), "--message", message, "--project", "acme-ml"],
      { WANDB_API_KEY: SECRET },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), "the secret leaked");
    const env = JSON.parse(r.stdout).customJob.jobSpec.workerPoolSpecs[0].containerSpec
      .env as Array<{ name: string; value: string }>;
    assert.deepEqual(
      env.find((e) => e.name === "WANDB_API_KEY"),
      { name: "WANDB_API_KEY", value: "<redacted>" },
    );
  });
  it("refuses a WANDB_API_KEY in the queue's env, and never prints it or the secret", async () => {
    const inQueue = "queue-file-key-0a1b2c";
    const q = set(baseQueue(), "spec.worker_pool_specs[0].container_spec.env", [
      { name: "WANDB_API_KEY", value: inQueue },
    ]);
    for (const env of [{}, { WANDB_API_KEY: SECRET }] as Record<string, string>[]) {
      const r = await run(
        ["--file", file("clash.yaml", q), "--message", message, "--project", "acme-ml"],
        env,
      );
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.match(
        r.stderr,
        /spec\.worker_pool_specs\[0\]\.container_spec\.env\[0\]\.name: WANDB_API_KEY may not be set in a worker pool's env: the dispatcher injects it from its own secret/,
      );
      for (const leaked of [inQueue, SECRET])
        assert.ok(!r.stdout.includes(leaked) && !r.stderr.includes(leaked), "a key leaked");
    }
  });
  it("refuses a WANDB_API_KEY set through the message's resource_args", async () => {
    const inMessage = "message-key-3d4e5f";
    const m = file("smuggle.json", {
      ...baseMessage(),
      resource_args: {
        "gcp-vertex": {
          spec: {
            worker_pool_specs: [
              {
                machine_spec: { machine_type: "n1-standard-4" },
                container_spec: {
                  image_uri: "gcr.io/p/i:1",
                  env: [{ name: "WANDB_API_KEY", value: inMessage }],
                },
              },
            ],
          },
        },
      },
    });
    const queue = file("overridable.yaml", set(baseQueue(), "allow_resource_overrides", true));
    const r = await run(["--file", queue, "--message", m, "--project", "acme-ml"], {
      WANDB_API_KEY: SECRET,
    });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /env\[0\]\.name: WANDB_API_KEY may not be set .*resource_args/);
    for (const leaked of [inMessage, SECRET])
      assert.ok(!r.stdout.includes(leaked) && !r.stderr.includes(leaked), "a key leaked");
  });
  it("without WANDB_API_KEY the variable is left out", async () => {
    const r = await run([
      "--file",
      file("nokey.yaml", baseQueue()),
      "--message",
      message,
      "--project",
      "acme-ml",
    ]);
    assert.ok(!r.stdout.includes("WANDB_API_KEY"));
  });
  it("the built bin (a protos subset, protobufjs/light) prints what the sources print (all of protos.json)", async () => {
    await buildCli({ quiet: true });
    const messages = ["basic.json", "template-vars.json"].map((m) => join(FIXTURES, "messages", m));
    let rendered = 0;
    for (const q of [
      "seed-default",
      "gpu-template",
      "distributed-a100",
      "l4-flex-start",
      "python-package",
    ]) {
      for (const m of messages) {
        const args = [
          "--file",
          join(FIXTURES, "queues", `${q}.yaml`),
          "--message",
          m,
          "--project",
          "acme-ml",
        ];
        const built = spawnRun(args);
        const source = await run(args);
        assert.equal(built.code, source.code, `${q} + ${m}: ${built.stderr}`);
        assert.equal(built.stdout, source.stdout, `${q} + ${m}`);
        if (built.code === 0) rendered++;
      }
    }
    assert.ok(rendered >= 5, `only ${rendered} fixture pairs rendered`);
  });
});
