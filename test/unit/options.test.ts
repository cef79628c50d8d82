import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DispatchError } from "../../shared/errors.js";
import { parseOptions } from "../../shared/options.js";

const base = {
  GOOGLE_CLOUD_PROJECT: "p",
  VERTEX_REGION: "us-central1",
  STATE_BUCKET: "state-b",
  QUEUE_CONFIG_DIR: "/q",
};

function badEnv(env: Record<string, string>): DispatchError {
  try {
    parseOptions(env);
  } catch (err) {
    assert.ok(err instanceof DispatchError);
    return err;
  }
  assert.fail("expected parseOptions to throw");
}

describe("parseOptions", () => {
  it("applies defaults", () => {
    const o = parseOptions(base);
    assert.equal(o.WANDB_BASE_URL, "https://api.wandb.ai");
    assert.equal(o.LEASE_SECONDS, 120);
    assert.equal(o.CREATE_DEADLINE_SECONDS, 60);
    assert.equal(o.MAX_MESSAGE_BYTES, 262144);
    assert.equal(o.STATUS_TOPIC, "launch-status");
  });

  it("treats empty strings as unset", () => {
    assert.equal(parseOptions({ ...base, WANDB_API_KEY: "" }).WANDB_API_KEY, undefined);
  });

  const cases: Array<[string, Record<string, string>, string, RegExp]> = [
    [
      "missing project",
      { ...base, GOOGLE_CLOUD_PROJECT: "" },
      "GOOGLE_CLOUD_PROJECT",
      /missing or invalid|project/,
    ],
    ["bad region", { ...base, VERTEX_REGION: "central" }, "VERTEX_REGION", /us-central1/],
    ["bucket with gs://", { ...base, STATE_BUCKET: "gs://x" }, "STATE_BUCKET", /no gs:\/\//],
    [
      "no queue source",
      { GOOGLE_CLOUD_PROJECT: "p", VERTEX_REGION: "us-central1", STATE_BUCKET: "sb" },
      "CONFIG_BUCKET",
      /QUEUE_CONFIG_DIR/,
    ],
    [
      "lease not above deadline",
      { ...base, LEASE_SECONDS: "30" },
      "LEASE_SECONDS",
      /greater than CREATE_DEADLINE_SECONDS/,
    ],
    ["bad endpoint", { ...base, VERTEX_ENDPOINT: "http://x" }, "VERTEX_ENDPOINT", /host:port/],
    [
      "bad account",
      { ...base, DEFAULT_JOB_SERVICE_ACCOUNT: "nope" },
      "DEFAULT_JOB_SERVICE_ACCOUNT",
      /email/,
    ],
    ["bad number", { ...base, LEASE_SECONDS: "abc" }, "LEASE_SECONDS", /./],
  ];
  for (const [name, env, path, message] of cases) {
    it(`rejects ${name}, naming the variable`, () => {
      const err = badEnv(env);
      assert.equal(err.kind, "bad_environment");
      const issue = err.issues.find((i) => i.path === path);
      assert.ok(issue, `no issue for ${path}: ${JSON.stringify(err.issues)}`);
      assert.match(issue.message, message);
      assert.match(err.message, new RegExp(path));
    });
  }

  it("says a missing variable is not set and how to set it", () => {
    const err = badEnv({ ...base, GOOGLE_CLOUD_PROJECT: "" });
    assert.match(
      err.message,
      /GOOGLE_CLOUD_PROJECT is not set: set it to the GCP project ID, e\.g\. my-project/,
    );
    const bad = badEnv({ ...base, VERTEX_REGION: "central" });
    assert.match(
      bad.message,
      /VERTEX_REGION is invalid \(expected a region such as us-central1\): set it to/,
    );
  });

  it("never echoes a value back in its errors", () => {
    const err = badEnv({ ...base, WANDB_BASE_URL: "not a url sekrit-value-123" });
    assert.doesNotMatch(err.message, /sekrit-value-123/);
  });
});
