// The launch message schema (SPEC §2): defaults, every rule, every error with its path.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLaunchMessage } from "../../shared/schemas/message.js";
import { assertIssue, baseMessage, caught, fixture } from "../helpers/resolve_fixtures.js";

describe("launch message: valid", () => {
  it("applies defaults: action launch, priority 2", () => {
    const m = parseLaunchMessage({ queue: "q", entity: "e", project: "p" });
    assert.equal(m.action, "launch");
    assert.equal(m.priority, 2);
  });
  it("accepts a cancel with queue + run_id only", () => {
    const m = parseLaunchMessage(JSON.parse(fixture("messages", "cancel.json")));
    assert.equal(m.action, "cancel");
    assert.equal(m.run_id, "vit4gpu01");
  });
  for (const name of ["basic.json", "template-vars.json", "wandb-webhook-payload-template.json"]) {
    it(`accepts the example ${name}`, () => {
      parseLaunchMessage(JSON.parse(fixture("messages", name)));
    });
  }
  it("accepts every documented key", () => {
    const m = parseLaunchMessage({
      ...baseMessage(),
      name: "n",
      author: "a",
      job: "acme/vision/job-x:v7",
      entry_point: ["python", "x.py"],
      args: ["--a"],
      run_config: { lr: 1 },
      env: { FOO: "bar", _X1: "y" },
      template_variables: { gpus: 4, machine: "n1-standard-8" },
      resource_args: { "gcp-vertex": { spec: {}, run: {} } },
      priority: 0,
    });
    assert.equal(m.priority, 0);
    assert.deepEqual(m.env, { FOO: "bar", _X1: "y" });
  });
  it("accepts resource_args under the key vertex", () => {
    parseLaunchMessage({ ...baseMessage(), resource_args: { vertex: { run: { timeout: 60 } } } });
  });
});

const INVALID: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ["queue missing", { entity: "e", project: "p" }, "queue", /required/],
  ["queue with a slash", { queue: "../etc", entity: "e", project: "p" }, "queue", /queue name/],
  ["entity missing on launch", { queue: "q", project: "p" }, "entity", /required for a launch/],
  ["project missing on launch", { queue: "q", entity: "e" }, "project", /required for a launch/],
  ["run_id missing on cancel", { action: "cancel", queue: "q" }, "run_id", /required for a cancel/],
  ["unknown action", { action: "stop", queue: "q" }, "action", /"launch".*"cancel"/],
  ["run_id uppercase", { ...baseMessage(), run_id: "Run1" }, "run_id", /a-z, 0-9/],
  ["run_id too long", { ...baseMessage(), run_id: "a".repeat(65) }, "run_id", /1-64/],
  [
    "job without alias",
    { ...baseMessage(), job: "acme/vision/job" },
    "job",
    /entity\/project\/name:alias/,
  ],
  [
    "entry_point not a list",
    { ...baseMessage(), entry_point: "python x.py" },
    "entry_point",
    /expected a list/,
  ],
  ["entry_point empty", { ...baseMessage(), entry_point: [] }, "entry_point", /at least 1 item/],
  [
    "args with a number",
    { ...baseMessage(), args: ["--n", 3] },
    "args[1]",
    /expected a string, got number 3/,
  ],
  ["run_config a list", { ...baseMessage(), run_config: [1] }, "run_config", /expected an object/],
  ["env name invalid", { ...baseMessage(), env: { "1X": "v" } }, "env.1X", /C identifiers/],
  ["env value a number", { ...baseMessage(), env: { X: 1 } }, "env.X", /expected a string/],
  [
    "env sets WANDB_API_KEY",
    { ...baseMessage(), env: { WANDB_API_KEY: "k" } },
    "env.WANDB_API_KEY",
    /not allowed in a message/,
  ],
  [
    "template variable a boolean",
    { ...baseMessage(), template_variables: { gpus: true } },
    "template_variables.gpus",
    /string or a number/,
  ],
  [
    "template variable bad name",
    { ...baseMessage(), template_variables: { "1gpu": 1 } },
    "template_variables.1gpu",
    /template variable names/,
  ],
  [
    "resource_args other runner",
    { ...baseMessage(), resource_args: { kubernetes: {} } },
    "resource_args.kubernetes",
    /allowed keys: gcp-vertex, vertex/,
  ],
  [
    "resource_args both keys",
    { ...baseMessage(), resource_args: { vertex: {}, "gcp-vertex": {} } },
    "resource_args.vertex",
    /not both/,
  ],
  [
    "resource_args unknown section",
    { ...baseMessage(), resource_args: { vertex: { specs: {} } } },
    "resource_args.vertex.specs",
    /did you mean "spec"/,
  ],
  ["priority 4", { ...baseMessage(), priority: 4 }, "priority", /at most 3/],
  ["priority 1.5", { ...baseMessage(), priority: 1.5 }, "priority", /integer/],
  ["camelCase key", { ...baseMessage(), runId: "x" }, "runId", /snake_case: write "run_id"/],
  ["typo key", { ...baseMessage(), imge_uri: "x" }, "imge_uri", /did you mean "image_uri"/],
  [
    "unknown key, no hint",
    { ...baseMessage(), zzzzzzzz: 1 },
    "zzzzzzzz",
    /allowed keys: .*image_uri/,
  ],
  ["name empty", { ...baseMessage(), name: "" }, "name", /must not be empty/],
];

describe("launch message: every error has its path and says what is expected", () => {
  for (const [title, input, path, message] of INVALID) {
    it(title, () => {
      const err = caught(() => parseLaunchMessage(input));
      assert.equal(err.kind, "invalid_message");
      assertIssue(err, path, message);
    });
  }
  it("lists every problem at once", () => {
    const err = caught(() =>
      parseLaunchMessage({ queue: "q", entitty: "e", priority: 9, env: { WANDB_API_KEY: "x" } }),
    );
    assert.deepEqual(
      err.issues.map((i) => i.path).sort(),
      ["entitty", "entity", "env.WANDB_API_KEY", "priority", "project"].sort(),
    );
    assert.match(err.message, /entitty: unknown key "entitty": did you mean "entity"\?/);
  });
  it("rejects non-objects", () => {
    for (const input of [null, "x", 3, [1]]) {
      const err = caught(() => parseLaunchMessage(input));
      assertIssue(err, "", /expected an object/);
    }
  });
});
