import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeDelivery, parseBody } from "../../shared/dispatch/delivery.js";
import { DispatchError } from "../../shared/errors.js";
import { consoleUrl } from "../../shared/status.js";
import { isAmbiguous, VERTEX_STATUS_TABLE, vertexError } from "../../shared/vertex/errors.js";

function event(
  body: string,
  attributes: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    id: "evt-1",
    data: {
      message: { data: Buffer.from(body).toString("base64"), attributes, messageId: "m-1" },
      ...extra,
    },
  };
}

describe("decodeDelivery", () => {
  it("decodes data, string attributes, message id and delivery attempt", () => {
    const d = decodeDelivery(
      event('{"a":1}', { idempotency_key: "k", n: 5 }, { deliveryAttempt: 3 }),
    );
    assert.equal(d.body.toString(), '{"a":1}');
    assert.deepEqual(d.attributes, { idempotency_key: "k" });
    assert.equal(d.messageId, "m-1");
    assert.equal(d.deliveryAttempt, 3);
  });

  it("reads a raw push body (an attributes-only message is not converted to a CloudEvent)", () => {
    const d = decodeDelivery({
      message: { attributes: { a: "b" }, messageId: "m-7" },
      subscription: "projects/p/subscriptions/dispatch",
    } as never);
    assert.equal(d.messageId, "m-7");
    assert.deepEqual(d.attributes, { a: "b" });
    assert.equal(d.body.length, 0);
  });

  it("falls back to the event id and an unknown attempt", () => {
    const d = decodeDelivery({ id: "evt-9", data: { message: { data: "" } } });
    assert.equal(d.messageId, "evt-9");
    assert.equal(d.deliveryAttempt, null);
  });
});

describe("parseBody", () => {
  const bad: Array<[string, string, RegExp]> = [
    ["empty", "", /empty/],
    ["not JSON", "{nope", /not JSON/],
    ["too large", `"${"x".repeat(300)}"`, /over the 100-byte limit/],
  ];
  for (const [name, body, message] of bad) {
    it(`rejects ${name} as a permanent invalid_message`, () => {
      assert.throws(
        () => parseBody(decodeDelivery(event(body)), 100),
        (err: unknown) =>
          err instanceof DispatchError &&
          err.kind === "invalid_message" &&
          !err.retryable &&
          message.test(err.message),
      );
    });
  }
  it("parses JSON within the limit", () => {
    assert.deepEqual(parseBody(decodeDelivery(event('{"queue":"q"}')), 100), { queue: "q" });
  });
});

describe("Vertex status table", () => {
  const expectations: Array<[number, string, boolean]> = [
    [3, "INVALID_ARGUMENT", false],
    [5, "NOT_FOUND", false],
    [7, "PERMISSION_DENIED", false],
    [9, "FAILED_PRECONDITION", false],
    [4, "DEADLINE_EXCEEDED", true],
    [8, "RESOURCE_EXHAUSTED", true],
    [13, "INTERNAL", true],
    [14, "UNAVAILABLE", true],
  ];
  for (const [code, name, retryable] of expectations) {
    it(`${name} is ${retryable ? "retryable" : "permanent"}`, () => {
      const err = vertexError(
        Object.assign(new Error("x"), { code, details: "why" }),
        "CreateCustomJob",
      );
      assert.equal(err.retryable, retryable);
      assert.match(err.message, new RegExp(`CreateCustomJob failed with ${name}: why`));
    });
  }
  it("marks the codes after which a create may have happened as ambiguous", () => {
    for (const code of [4, 14]) assert.equal(VERTEX_STATUS_TABLE[code]?.ambiguous, true);
    for (const code of [3, 7, 8]) assert.equal(VERTEX_STATUS_TABLE[code]?.ambiguous, false);
  });
  it("says which failures may still have created a job", () => {
    const failed = (code: number) =>
      vertexError(Object.assign(new Error("x"), { code }), "CreateCustomJob");
    assert.equal(isAmbiguous(failed(4)), true);
    assert.equal(isAmbiguous(failed(14)), true);
    assert.equal(isAmbiguous(failed(8)), false);
    assert.equal(isAmbiguous(failed(3)), false);
    assert.equal(isAmbiguous(new Error("socket hang up")), true);
    // Thrown by us before any request went out (a create not sent, a lease that changed).
    assert.equal(isAmbiguous(new DispatchError("launch_busy", "not sent")), false);
  });
  it("treats an error without a code as retryable", () => {
    assert.equal(vertexError(new Error("socket hang up"), "x").retryable, true);
  });
});

describe("consoleUrl", () => {
  it("links a job to its console page", () => {
    assert.equal(
      consoleUrl("projects/p/locations/us-central1/customJobs/123"),
      "https://console.cloud.google.com/vertex-ai/locations/us-central1/training/123/cpu?project=p",
    );
    assert.equal(consoleUrl("nonsense"), null);
  });
});
