// The CLI in-process, without any service: parsing, --help of every command, exit codes,
// stdout/stderr discipline, colours, launch flags, the status row's exact types, error
// summaries and fixes, and the live line of --follow.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import YAML from "yaml";
import { SPECS } from "../../cli/commands.js";
import { EXIT, EXIT_TABLE, exitCodeFor } from "../../cli/exit_codes.js";
import { follow } from "../../cli/follow.js";
import { makeCtx } from "../../cli/io.js";
import { launchFromFlags } from "../../cli/launch_flags.js";
import { errorSummary, streamLogsCommand } from "../../cli/present.js";
import { statusRow } from "../../cli/status.js";
import type { Watch } from "../../cli/watch.js";
import { howToFix } from "../../shared/error_hints.js";
import { CLI_KINDS, DispatchError, THROWN_KINDS, type ThrowableKind } from "../../shared/errors.js";
import type { LaunchRecord } from "../../shared/schemas/launch_record.js";
import type { StatusEvent } from "../../shared/schemas/status_event.js";
import { cli } from "../helpers/cli.js";
import { baseMessage, baseQueue } from "../helpers/resolve_fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "vd-cli-"));
const NO_CLOUD = { PATH: process.env.PATH };
const ESC = "\x1b";

describe("vertex-dispatch --help", () => {
  for (const name of Object.keys(SPECS)) {
    it(`${name} --help prints its usage, every flag and an example on stdout`, async () => {
      const r = await cli([name, "--help"], NO_CLOUD);
      assert.equal(r.code, 0);
      assert.equal(r.err, "");
      assert.match(r.out, new RegExp(`^usage: vertex-dispatch ${name}`, "m"));
      assert.match(r.out, /^examples?:\n {2}\S/m);
      for (const flag of Object.keys(SPECS[name as keyof typeof SPECS].flags)) {
        assert.match(r.out, new RegExp(`--${flag}\\b`), `--${flag} in ${name} --help`);
      }
      assert.deepEqual(await cli(["help", name], NO_CLOUD), r);
    });
  }

  it("the top-level help lists every command and the exit-code table", async () => {
    const r = await cli(["--help"], NO_CLOUD);
    assert.equal(r.code, 0);
    for (const name of Object.keys(SPECS)) assert.match(r.out, new RegExp(`^ {2}${name} `, "m"));
    for (const [code] of EXIT_TABLE) assert.match(r.out, new RegExp(`^ +${code} {2}\\S`, "m"));
  });

  it("no command: usage on stderr, exit 2; an unknown command: exit 2", async () => {
    const none = await cli([], NO_CLOUD);
    assert.equal(none.code, EXIT.usage);
    assert.equal(none.out, "");
    assert.match(none.err, /^usage: vertex-dispatch COMMAND/m);
    const unknown = await cli(["sbumit"], NO_CLOUD);
    assert.equal(unknown.code, EXIT.usage);
    assert.match(unknown.err, /unknown command "sbumit"/);
  });
});

describe("vertex-dispatch usage errors (exit 2, on stderr, with the usage line)", () => {
  const cases: Array<[string[], RegExp]> = [
    [["submit", "--queue", "q", "--wiat"], /unknown flag --wiat \(did you mean --wait\?\)/],
    [["render", "--queue", "q"], /render reads a queue file, given as --file FILE/],
    [["submit", "--queue", "q", "--wait", "--follow"], /--wait and --follow exclude each other/],
    [["submit", "--queue", "q", "--timeout", "soon"], /--timeout "soon": expected a whole number/],
    [["submit", "--entity", "e"], /--queue is required/],
    [["status", "--run-id", "r"], /--run-id needs --queue/],
    [["validate"], /give one of --file FILE or --queue NAME/],
    [["queues", "frob"], /cannot read "queues frob"/],
    [["submit", "--queue", "q", "--config", "lr"], /--config "lr": expected KEY=VALUE/],
    [["submit", "--queue", "q", "--entity", "e"], /no GCP project: set GOOGLE_CLOUD_PROJECT/],
  ];
  for (const [argv, message] of cases) {
    it(argv.join(" "), async () => {
      const r = await cli(argv, NO_CLOUD);
      assert.equal(r.code, EXIT.usage, r.err);
      assert.equal(r.out, "");
      assert.match(r.err, message);
      assert.match(r.err, /^error: vertex-dispatch /);
    });
  }
});

describe("exit codes", () => {
  it("every error kind that can be thrown has an exit code from the one table", () => {
    const codes = new Set(EXIT_TABLE.map(([c]) => c));
    for (const kind of Object.keys({ ...THROWN_KINDS, ...CLI_KINDS }) as ThrowableKind[]) {
      assert.ok(codes.has(exitCodeFor(new DispatchError(kind, "x"))), kind);
    }
    assert.equal(exitCodeFor(new DispatchError("queue_not_found", "x")), EXIT.not_found);
    assert.equal(exitCodeFor(new DispatchError("invalid_config", "x")), EXIT.usage);
    assert.equal(exitCodeFor(new Error("ECONNREFUSED")), EXIT.cloud);
  });
});

describe("render output discipline and colours", () => {
  const queue = join(dir, "q.yaml");
  const message = join(dir, "m.json");
  writeFileSync(queue, YAML.stringify(baseQueue()));
  writeFileSync(
    message,
    JSON.stringify({ ...baseMessage(), queue: "q", image_uri: "docker.io/library/python:3" }),
  );
  const argv = ["render", "--file", queue, "--message", message, "--project", "acme-ml"];

  it("the request on stdout, the Docker Hub warning on stderr", async () => {
    const r = await cli(argv, NO_CLOUD);
    assert.equal(r.code, 0, r.err);
    JSON.parse(r.out);
    assert.match(
      r.err,
      /^warning: image docker\.io\/library\/python:3 is not in Artifact Registry/m,
    );
  });

  it("colours only on a terminal, and never with NO_COLOR", async () => {
    const tty = await cli(argv, NO_CLOUD, { tty: true });
    assert.ok(tty.err.includes(`${ESC}[33mwarning:`), tty.err);
    const noColor = await cli(argv, { ...NO_CLOUD, NO_COLOR: "1" }, { tty: true });
    assert.ok(!noColor.err.includes(ESC));
    const pipe = await cli(argv, NO_CLOUD);
    assert.ok(!pipe.err.includes(ESC));
    assert.equal(tty.out, pipe.out, "stdout is the same JSON either way");
  });
});

describe("launches from flags", () => {
  it("maps flags to message fields, JSON config values, numeric template variables", async () => {
    const m = await launchFromFlags(
      {
        entity: "acme",
        "wandb-project": "vision",
        image: "img",
        "entry-point": "python train.py",
        arg: ["--epochs", "3"],
        config: ["lr=0.01", "layers=[64,64]", "name=resnet", 'opt={"b":1}'],
        var: ["gpus=2", "zone=us-central1-a"],
        env: ["A=b=c"],
        "run-id": "r1",
        name: "n",
        priority: "1",
      },
      "q",
    );
    assert.deepEqual(m, {
      entity: "acme",
      project: "vision",
      image_uri: "img",
      entry_point: ["python", "train.py"],
      args: ["--epochs", "3"],
      run_config: { lr: 0.01, layers: [64, 64], name: "resnet", opt: { b: 1 } },
      template_variables: { gpus: 2, zone: "us-central1-a" },
      env: { A: "b=c" },
      run_id: "r1",
      name: "n",
      priority: 1,
      queue: "q",
    });
  });

  it("flags win over --message, key by key for maps; a JSON entry point keeps its spaces", async () => {
    const file = join(dir, "base.json");
    writeFileSync(file, JSON.stringify({ entity: "old", run_config: { lr: 1, epochs: 3 } }));
    const m = await launchFromFlags(
      { message: file, entity: "new", config: ["lr=2"], "entry-point": '["python","a b.py"]' },
      "q",
    );
    assert.equal(m.entity, "new");
    assert.deepEqual(m.run_config, { lr: 2, epochs: 3 });
    assert.deepEqual(m.entry_point, ["python", "a b.py"]);
  });

  it("a priority that is not a number stays as given, so the schema names the field", async () => {
    const m = await launchFromFlags({ priority: "high" }, "q");
    assert.equal(m.priority, "high");
  });
});

describe("status rows, error summaries and fixes", () => {
  const record: LaunchRecord = {
    version: 1,
    launch_id: "abc",
    idempotency_key: "k",
    message_id: null,
    queue: "q",
    entity: "e",
    project: "p",
    run_id: "r",
    state: "rejected",
    priority: 2,
    attempt: 1,
    job_name: null,
    vertex_state: null,
    console_url: null,
    error: {
      kind: "invalid_config",
      message:
        'invalid queue config "gpu-typo":\n  spec.worker_pool_specs[0].machine_spec.machine_type: unknown',
      issues: [{ path: "spec.worker_pool_specs[0].machine_spec.machine_type", message: "unknown" }],
    },
    warnings: ["w1", "w2"],
    lease: null,
    message: null,
    outbox: null,
    previous_jobs: [],
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:01.000Z",
  };

  it("status --json rows keep numbers as numbers and absent values as null", () => {
    const row = statusRow(record);
    assert.equal(row.attempt, 1);
    assert.equal(row.priority, 2);
    assert.equal(row.job_name, null);
    assert.equal(row.console_url, null);
    assert.equal(row.vertex_state, null);
    assert.deepEqual(row.warnings, ["w1", "w2"]);
    assert.ok(!("message" in row) && !("lease" in row), "no message body or lease");
  });

  it("the first error line that says what is wrong, not an empty header", () => {
    assert.equal(
      errorSummary(record.error),
      'invalid queue config "gpu-typo": spec.worker_pool_specs[0].machine_spec.machine_type: unknown',
    );
    assert.equal(errorSummary({ kind: "k", message: "one line" }), "one line");
    assert.equal(errorSummary(null), null);
  });

  it("act-as denied names roles/iam.serviceAccountUser on that account, and LOCAL_ACT_AS locally", () => {
    const error = {
      kind: "vertex_rejected",
      message:
        "Vertex AI CreateCustomJob failed with INVALID_ARGUMENT: You do not have permission to act as service_account: sa@p.iam.gserviceaccount.com. (or it may not exist).",
    };
    const cloud = howToFix(error, { local: false });
    assert.equal(cloud.length, 1);
    assert.match(
      cloud[0] ?? "",
      /roles\/iam\.serviceAccountUser on sa@p\.iam\.gserviceaccount\.com:/,
    );
    const local = howToFix(error, { local: true });
    assert.match(local[1] ?? "", /LOCAL_ACT_AS=sa@p\.iam\.gserviceaccount\.com/);
    assert.deepEqual(
      howToFix({ kind: "x", message: "the bucket is missing" }, { local: true }),
      [],
    );
  });

  it("the logs command of a job name", () => {
    assert.equal(
      streamLogsCommand("projects/123/locations/europe-west4/customJobs/456"),
      "gcloud ai custom-jobs stream-logs 456 --project=123 --region=europe-west4",
    );
    assert.equal(streamLogsCommand("nonsense"), null);
  });
});

describe("--follow's live line", () => {
  const event = (state: StatusEvent["state"]): StatusEvent => ({
    launch_id: "l",
    queue: "q",
    entity: "e",
    project: "p",
    run_id: "r",
    state,
    previous_state: null,
    vertex_state: null,
    job_name: null,
    console_url: null,
    error: null,
    warnings: [],
    attempt: 1,
    time: "2026-01-01T00:00:00.000Z",
  });
  /** A scripted source of events in place of a subscription (our own interface, no SDK). */
  const scripted = (states: Array<StatusEvent["state"]>): Watch => {
    const queue = states.map(event);
    return {
      name: "scripted",
      next: async () => queue.shift() ?? "timeout",
      interrupt() {},
      close: async () => {},
    };
  };
  const run = async (tty: boolean) => {
    let out = "";
    let err = "";
    const ctx = makeCtx(NO_CLOUD, {
      stdout: { write: (s: string) => (out += s), isTTY: tty },
      stderr: { write: (s: string) => (err += s), isTTY: tty },
      onInterrupt: () => () => {},
      now: () => 0,
    });
    const result = await follow({
      watch: scripted(["submitted", "running", "finished"]),
      ctx,
      json: false,
      done: (e) => e.state === "finished",
      timeoutMs: 0,
      waitingFor: "waiting",
    });
    return { out, err, result };
  };

  it("on a terminal: a live line on stderr, cleared before each state line", async () => {
    const { out, err, result } = await run(true);
    assert.equal(result.end, "done");
    assert.ok(err.includes(`\r${ESC}[2K`), "the live line is redrawn in place");
    assert.match(err, /waiting.*0s/);
    assert.match(err, /running/);
    assert.doesNotMatch(out, /\r/);
  });

  it("elsewhere: plain lines only", async () => {
    const { out, err, result } = await run(false);
    assert.deepEqual(
      result.events.map((e) => e.state),
      ["submitted", "running", "finished"],
    );
    assert.equal(err, "");
    assert.equal(out.trim().split("\n").length, 3);
    assert.ok(!out.includes(ESC));
  });
});
