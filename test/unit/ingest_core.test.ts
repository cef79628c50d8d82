// The ingest core without processes: the constant-time checks, the signature encodings,
// the streaming body reader, the head checks, idempotency keys and the options.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { demoCurlLine } from "../../local/stack/demo.js";
import { DispatchError } from "../../shared/errors.js";
import {
  checkBearer,
  checkSignature,
  decodeSignature,
  signBody,
} from "../../shared/ingest/auth.js";
import { readLimited } from "../../shared/ingest/body.js";
import { canonicalJson, idempotencyKey } from "../../shared/ingest/ingest.js";
import { parseIngestOptions } from "../../shared/ingest/options.js";
import { checkHead, contentTypeProblem } from "../../shared/ingest/request_head.js";

/** An `equal` that records what it compared, then compares for real. */
function recordingEqual() {
  const calls: Array<[number, number]> = [];
  const equal = (a: Buffer, b: Buffer) => {
    calls.push([a.length, b.length]);
    return a.length === b.length && a.equals(b);
  };
  return { calls, equal };
}

describe("constant-time checks", () => {
  const token = "tok-0123456789abcdef";
  it("every bearer header, of any length or shape, is one comparison of two 32-byte digests", () => {
    const headers = [
      undefined,
      "",
      "Bearer",
      "Bearer ",
      `Bearer ${token}`,
      `bearer ${token}`,
      `Bearer ${token.slice(0, 1)}`,
      `Bearer ${token}${"x".repeat(5000)}`,
      `Bearer ${token.slice(0, -1)}X`,
      `Basic ${token}`,
      token,
    ];
    for (const header of headers) {
      const { calls, equal } = recordingEqual();
      checkBearer(header, token, equal);
      assert.deepEqual(calls, [[32, 32]], `header ${JSON.stringify(header?.slice(0, 30))}`);
    }
  });

  it("tells missing, malformed and wrong apart, and accepts the token (scheme case-insensitive)", () => {
    assert.deepEqual(checkBearer(undefined, token), { ok: false, problem: "missing" });
    assert.deepEqual(checkBearer(token, token), { ok: false, problem: "malformed" });
    assert.deepEqual(checkBearer(`Bearer ${token}x`, token), { ok: false, problem: "wrong" });
    assert.deepEqual(checkBearer(`Bearer ${token}`, token), { ok: true });
    assert.deepEqual(checkBearer(`bearer  ${token} `, token), { ok: true });
  });

  it("every signature header is one comparison of two 32-byte values", () => {
    const body = Buffer.from('{"queue":"q"}');
    const good = signBody(body, "s3cret");
    for (const header of [
      undefined,
      "",
      "zz",
      good,
      good.slice(0, 10),
      `${good}${good}`,
      "sha256=00",
      "é".repeat(44),
    ]) {
      const { calls, equal } = recordingEqual();
      checkSignature(header, body, "s3cret", equal);
      assert.deepEqual(calls, [[32, 32]], `header ${JSON.stringify(header)}`);
    }
  });

  it("accepts W&B's base64 (padded, unpadded, URL-safe), hex in either case, and a sha256= prefix", () => {
    const body = Buffer.from('{"a":"b"}');
    const digest = createHmac("sha256", "k").update(body).digest();
    const b64 = digest.toString("base64");
    const forms = [
      b64,
      b64.replace(/=$/, ""),
      digest.toString("base64url"),
      digest.toString("hex"),
      digest.toString("hex").toUpperCase(),
      `sha256=${digest.toString("hex")}`,
      `SHA256=${b64}`,
    ];
    for (const form of forms) {
      assert.deepEqual(decodeSignature(form), digest, form);
      assert.deepEqual(checkSignature(form, body, "k"), { ok: true }, form);
    }
    assert.equal(decodeSignature(digest.subarray(0, 31).toString("base64")), null);
    assert.deepEqual(checkSignature(b64, Buffer.from('{"a":"c"}'), "k"), {
      ok: false,
      problem: "wrong",
    });
    assert.deepEqual(checkSignature("%%%", body, "k"), { ok: false, problem: "malformed" });
    assert.deepEqual(checkSignature(undefined, body, "k"), { ok: false, problem: "missing" });
  });
});

describe("readLimited", () => {
  /** A stream that makes `count` chunks on demand and counts how many were taken. */
  function lazyStream(count: number, size: number) {
    let made = 0;
    const stream = new Readable({
      highWaterMark: size,
      read() {
        if (made >= count) this.push(null);
        else {
          made++;
          this.push(Buffer.alloc(size, 0x61));
        }
      },
    });
    return { stream, made: () => made };
  }

  it("reads a body within the limit whole", async () => {
    const { stream } = lazyStream(4, 1000);
    const result = await readLimited(stream, 4000, null);
    assert.ok(result.ok);
    assert.equal(result.ok && result.body.length, 4000);
  });

  it("stops at the first chunk over the limit and leaves the rest unread", async () => {
    const { stream, made } = lazyStream(10_000, 1024);
    const result = await readLimited(stream, 8 * 1024, null);
    assert.deepEqual(result, { ok: false, problem: "too_large", bytes: 9 * 1024 });
    await new Promise((r) => setImmediate(r));
    assert.ok(made() < 20, `made ${made()} of 10000 chunks`);
  });

  it("refuses a declared length over the limit without reading", async () => {
    const { stream, made } = lazyStream(10, 1024);
    const result = await readLimited(stream, 100, 10_240);
    assert.deepEqual(result, { ok: false, problem: "too_large", bytes: 10_240 });
    assert.equal(made(), 0);
  });

  it("reports a stream that breaks off as aborted", async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.from("{"));
    const pending = readLimited(stream, 100, null);
    stream.destroy(new Error("socket hang up"));
    assert.deepEqual(await pending, { ok: false, problem: "aborted" });
  });
});

describe("checkHead", () => {
  const options = { WEBHOOK_TOKEN: "t0ken-value", MAX_MESSAGE_BYTES: 100 };
  const head = (method: string, headers: Record<string, string>) => ({ method, headers });
  const auth = { authorization: "Bearer t0ken-value", "content-type": "application/json" };

  it("decides 500, 405, 401, 415, 413 in that order, before any body", () => {
    const status = (h: ReturnType<typeof head>, o = options) => checkHead(h, o)?.status ?? 0;
    assert.equal(status(head("GET", {}), { MAX_MESSAGE_BYTES: 100 } as typeof options), 500);
    assert.equal(status(head("GET", auth)), 405);
    assert.equal(status(head("POST", { "content-type": "text/plain" })), 401);
    assert.equal(status(head("POST", { ...auth, "content-type": "text/plain" })), 415);
    assert.equal(status(head("POST", { ...auth, "content-length": "101" })), 413);
    assert.equal(checkHead(head("POST", { ...auth, "content-length": "100" }), options), null);
  });

  it("names the content type it refuses and accepts only UTF-8 JSON", () => {
    assert.equal(contentTypeProblem("application/json"), null);
    assert.equal(contentTypeProblem('Application/JSON; charset="utf-8"'), null);
    assert.match(contentTypeProblem(undefined) ?? "", /no Content-Type header/);
    assert.match(contentTypeProblem("text/json") ?? "", /"text\/json" is not JSON/);
    assert.match(contentTypeProblem("application/json; charset=utf-16") ?? "", /other than UTF-8/);
  });
});

describe("idempotency keys", () => {
  it("hash the canonical body: key order and whitespace do not matter, values do", () => {
    const a = idempotencyKey(undefined, JSON.parse('{"b": 1, "a": {"y": [1, 2], "x": "é"}}'));
    const b = idempotencyKey(undefined, JSON.parse('{"a":{"x":"é","y":[1,2]},"b":1.0}'));
    const c = idempotencyKey(undefined, JSON.parse('{"a":{"x":"é","y":[2,1]},"b":1}'));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(
      canonicalJson({ b: [{ d: 1, c: null }], a: "\n" }),
      '{"a":"\\n","b":[{"c":null,"d":1}]}',
    );
  });

  it("take X-Idempotency-Key when sent, and refuse an empty or over-long one naming the header", () => {
    assert.deepEqual(idempotencyKey(" evt-1 ", {}), { value: "evt-1", from: "header" });
    for (const bad of ["", "k".repeat(1025)]) {
      const result = idempotencyKey(bad, {});
      assert.ok("answer" in result);
      assert.equal(result.answer.status, 400);
      assert.match(JSON.stringify(result.answer.body), /headers\.x-idempotency-key/);
    }
  });
});

describe("parseIngestOptions", () => {
  it("defaults what it can, and needs only the project", () => {
    const o = parseIngestOptions({ GOOGLE_CLOUD_PROJECT: "p", STATE_BUCKET: "gs://ignored" });
    assert.equal(o.LAUNCH_TOPIC, "launch-jobs");
    assert.equal(o.MAX_MESSAGE_BYTES, 262144);
    assert.equal(o.LOG_LEVEL, "info");
    assert.equal(o.WEBHOOK_TOKEN, undefined);
  });

  it("names every bad variable, never its value", () => {
    try {
      parseIngestOptions({
        LAUNCH_TOPIC: "projects/p/topics/t",
        MAX_MESSAGE_BYTES: "-5",
        PUBSUB_EMULATOR_HOST: "http://x",
        WEBHOOK_TOKEN: "two words",
      });
      assert.fail("no error");
    } catch (err) {
      assert.ok(err instanceof DispatchError);
      assert.equal(err.kind, "bad_environment");
      assert.deepEqual(err.issues.map((i) => i.path).sort(), [
        "GOOGLE_CLOUD_PROJECT",
        "LAUNCH_TOPIC",
        "MAX_MESSAGE_BYTES",
        "PUBSUB_EMULATOR_HOST",
        "WEBHOOK_TOKEN",
      ]);
      assert.doesNotMatch(err.message, /two words|projects\/p|http:\/\/x/);
    }
  });
});

describe("the demo curl line", () => {
  it("signs its body as W&B does when the stack has a signing secret", () => {
    const line = demoCurlLine("http://127.0.0.1:8083", "local-token", "sig-secret");
    const body = /-d '(.*)'$/.exec(line)?.[1] ?? "";
    const signature = /X-Wandb-Signature: ([^']+)'/.exec(line)?.[1] ?? "";
    assert.deepEqual(checkSignature(signature, Buffer.from(body), "sig-secret"), { ok: true });
    assert.doesNotMatch(demoCurlLine("http://x", "t"), /X-Wandb-Signature/);
  });
});
