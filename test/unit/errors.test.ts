import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DispatchError, ERROR_KINDS, formatPath, issuesError } from "../../shared/errors.js";

describe("errors", () => {
  it("retryability comes from the table", () => {
    for (const [kind, { retryable }] of Object.entries(ERROR_KINDS)) {
      const err = new DispatchError(kind as keyof typeof ERROR_KINDS, "x");
      assert.equal(err.retryable, retryable, kind);
    }
    assert.equal(new DispatchError("vertex_unavailable", "x").retryable, true);
    assert.equal(new DispatchError("invalid_message", "x").retryable, false);
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
