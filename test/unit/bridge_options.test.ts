import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBridgeOptions } from "../../shared/bridge/options.js";
import { DispatchError } from "../../shared/errors.js";

const KEY = "0123456789abcdef0123456789abcdef01234567";
const base = { WANDB_API_KEY: KEY, STATE_BUCKET: "state-b" };

function badEnv(env: Record<string, string>): DispatchError {
  try {
    parseBridgeOptions(env);
  } catch (err) {
    assert.ok(err instanceof DispatchError);
    assert.equal(err.kind, "bad_environment");
    assert.ok(!err.message.includes(KEY), "never echoes the key");
    return err;
  }
  assert.fail("expected parseBridgeOptions to throw");
}

describe("parseBridgeOptions", () => {
  it("is off (null) without WANDB_QUEUES, or with an empty one", () => {
    assert.equal(parseBridgeOptions({}), null);
    assert.equal(parseBridgeOptions({ ...base, WANDB_QUEUES: " , " }), null);
  });

  it("parses entity/project/queue=config entries, with defaults", () => {
    const o = parseBridgeOptions({
      ...base,
      WANDB_QUEUES: "acme/model-registry/vertex=gpu-template, acme/model-registry/seed-default",
    });
    assert.deepEqual(o?.queues, [
      { entity: "acme", project: "model-registry", name: "vertex", queue: "gpu-template" },
      { entity: "acme", project: "model-registry", name: "seed-default", queue: "seed-default" },
    ]);
    assert.equal(o?.baseUrl, "https://api.wandb.ai");
    assert.equal(o?.launchTopic, "launch-jobs");
    assert.equal(o?.maxItemsPerTick, 10);
    assert.equal(o?.requestTimeoutMs, 10_000);
  });

  it("names the entry and the expected form for a malformed entry", () => {
    const err = badEnv({ ...base, WANDB_QUEUES: "acme/vertex=gpu,a/b/c=d=e" });
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ["WANDB_QUEUES[0]", "WANDB_QUEUES[1]"],
    );
    assert.match(
      err.issues[0]?.message ?? "",
      /expected entity\/project\/queue-name=queue-config-name/,
    );
    assert.match(err.issues[1]?.message ?? "", /more than one "="/);
  });

  it("refuses a W&B queue name that cannot name a queue config unless one is given", () => {
    const err = badEnv({ ...base, WANDB_QUEUES: "acme/p/.hidden" });
    assert.match(err.message, /WANDB_QUEUES\[0\]: .*add =queue-config-name/);
    assert.ok(parseBridgeOptions({ ...base, WANDB_QUEUES: "acme/p/.hidden=ok" }));
  });

  it("refuses a queue listed twice", () => {
    const err = badEnv({ ...base, WANDB_QUEUES: "a/b/c=x,a/b/c=y" });
    assert.match(err.message, /WANDB_QUEUES: a\/b\/c is listed twice/);
  });

  it("needs the API key and the state bucket when queues are set", () => {
    const err = badEnv({ WANDB_QUEUES: "a/b/c" });
    assert.deepEqual(err.issues.map((i) => i.path).sort(), ["STATE_BUCKET", "WANDB_API_KEY"]);
    assert.match(err.message, /Secret Manager/);
  });

  it("names a bad number or URL without echoing it", () => {
    const err = badEnv({
      ...base,
      WANDB_QUEUES: "a/b/c",
      BRIDGE_MAX_ITEMS_PER_TICK: "0",
      WANDB_BASE_URL: `not a url ${KEY}`,
    });
    assert.deepEqual(err.issues.map((i) => i.path).sort(), [
      "BRIDGE_MAX_ITEMS_PER_TICK",
      "WANDB_BASE_URL",
    ]);
  });
});
