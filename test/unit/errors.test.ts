import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CLI_KINDS,
  DispatchError,
  ERROR_KINDS,
  formatPath,
  isRetryable,
  issuesError,
  OUTCOME_KINDS,
  THROWN_KINDS,
} from "../../shared/errors.js";

describe("errors", () => {
  it("retryability comes from the table", () => {
    for (const [kind, { retryable }] of Object.entries({ ...THROWN_KINDS, ...CLI_KINDS })) {
      const err = new DispatchError(kind as keyof typeof THROWN_KINDS, "x");
      assert.equal(err.retryable, retryable, kind);
      assert.equal(isRetryable(err), retryable, kind);
    }
    assert.equal(new DispatchError("vertex_unavailable", "x").retryable, true);
    assert.equal(new DispatchError("invalid_message", "x").retryable, false);
  });

  it("keeps thrown kinds, outcomes and CLI usage errors apart, and retries anything unexpected", () => {
    const groups = [THROWN_KINDS, OUTCOME_KINDS, CLI_KINDS].map((g) => Object.keys(g));
    const all = groups.flat();
    assert.equal(new Set(all).size, all.length, "no kind is in two groups");
    assert.deepEqual(all.sort(), Object.keys(ERROR_KINDS).sort());
    for (const kind of Object.keys(OUTCOME_KINDS)) {
      assert.equal(ERROR_KINDS[kind as keyof typeof OUTCOME_KINDS].retryable, false, kind);
    }
    assert.equal(isRetryable(new Error("unexpected")), true);
  });

  it("formats paths with indexes", () => {
    assert.equal(
      formatPath(["spec", "worker_pool_specs", 0, "machine_spec"]),
      "spec.worker_pool_specs[0].machine_spec",
    );
    assert.equal(formatPath([]), "");
  });

  it("lists every issue with its path", () => {
    const err = issuesError("invalid_config", "queue config q is invalid", [
      { path: "spec.staging_bucket", message: "expected gs://bucket[/path]" },
      { path: "", message: "whole" },
    ]);
    assert.equal(
      err.message,
      "queue config q is invalid:\n  spec.staging_bucket: expected gs://bucket[/path]\n  whole",
    );
    assert.deepEqual(err.toJSON().issues.length, 2);
  });
});
