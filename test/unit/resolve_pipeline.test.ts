// The resolver's parts: the compute rule tables name their sources, and the one issue
// collector decides who caused a problem (the queue: invalid_config; only the message:
// invalid_message).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COMPUTE_FACTS } from "../../shared/resolve/compute.js";
import { FLEX_START_RULES, JOB_RULES, POOL_RULES } from "../../shared/resolve/compute_rules.js";
import { IssueCollector } from "../../shared/resolve/issues.js";

describe("compute rules", () => {
  it("every rule names a source listed in vertex-compute.json", () => {
    const sources = Object.keys(COMPUTE_FACTS._meta.sources);
    for (const rule of [...JOB_RULES, ...POOL_RULES, ...FLEX_START_RULES]) {
      assert.ok(
        sources.includes(rule.source),
        `rule "${rule.name}": unknown source ${rule.source}`,
      );
    }
  });
  it("rule names are unique", () => {
    const names = [...JOB_RULES, ...POOL_RULES, ...FLEX_START_RULES].map((r) => r.name);
    assert.equal(new Set(names).size, names.length);
  });
});

describe("the issue collector", () => {
  const thrown = (c: IssueCollector) => {
    try {
      c.throwIfAny();
    } catch (err) {
      return err as { kind: string; issues: { path: string; message: string }[] };
    }
    assert.fail("nothing thrown");
  };
  it("throws nothing when empty", () => {
    new IssueCollector("q").throwIfAny();
  });
  it("only message problems: invalid_message; any queue problem: invalid_config", () => {
    const c = new IssueCollector("q");
    c.fromMessage([{ path: "message.env.A", message: "x" }]);
    assert.equal(thrown(c).kind, "invalid_message");
    c.fromQueue([{ path: "spec.labels", message: "y" }]);
    assert.equal(thrown(c).kind, "invalid_config");
  });
  it("a problem at (or under) a path the message's resource_args set is the message's, and says so", () => {
    const c = new IssueCollector("q");
    c.noteOverrides(["run.timeout", "spec.worker_pool_specs"]);
    c.fromResolved([{ path: "run.timeout", message: "bad" }]);
    c.fromResolved([{ path: "spec.worker_pool_specs[0].machine_spec", message: "bad" }]);
    c.fromResolved([{ path: "run.network", message: "bad" }], ["run.timeout"]);
    const err = thrown(c);
    assert.equal(err.kind, "invalid_message");
    assert.ok(err.issues.every((i) => i.message === "bad (set by the message's resource_args)"));
    c.fromResolved([{ path: "run.tensorboard", message: "bad" }]);
    assert.equal(thrown(c).kind, "invalid_config");
  });
  it("reports each path and message once", () => {
    const c = new IssueCollector("q");
    c.fromQueue([{ path: "a", message: "m" }]);
    c.fromQueue([{ path: "a", message: "m" }]);
    assert.equal(thrown(c).issues.length, 1);
  });
});
