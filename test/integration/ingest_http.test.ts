// The ingest function through the Functions Framework's real HTTP server, publishing to
// Google's Pub/Sub emulator with the official client: every status code, what arrives on
// launch-jobs, idempotency keys, the filled W&B payload templates, and no secret in any
// answer or log line.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import type { PubSub } from "@google-cloud/pubsub";
import { emulatorClient, type PubsubEmulator } from "../../local/pubsub/index.js";
import { startFunction } from "../../local/stack/functions.js";
import { signBody } from "../../shared/ingest/auth.js";
import {
  type IngestProcess,
  post,
  pullThrough,
  sendUntilAnswered,
  startIngest,
} from "../helpers/ingest.js";
import { pubsubSkipReason, startTestPubsub } from "../helpers/pubsub.js";
import {
  fillTemplate,
  fillTextually,
  readEvents,
  readTemplate,
  wandbHeaders,
} from "../helpers/wandb.js";

const TOKEN = "whk-token-5e1f0c7a9b3d";
const SECRET = "whk-signing-secret-77aa01";
const LIMIT = 262144;
const skip = pubsubSkipReason();

let seq = 0;
const launch = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    queue: "demo",
    entity: "acme",
    project: "vision",
    image_uri: "us-central1-docker.pkg.dev/acme-ml/train/resnet:1",
    name: `ingest-test-${++seq}-${Date.now()}`,
    ...extra,
  });

describe("ingest function (HTTP, Pub/Sub emulator)", { skip: skip ?? false }, () => {
  let emulator: PubsubEmulator;
  let pubsub: PubSub;
  let open: IngestProcess; // token only
  let signed: IngestProcess; // token and signing secret
  const sentSecrets: string[] = [TOKEN, SECRET];
  const answers: string[] = [];

  const send = async (
    target: IngestProcess,
    body: string | Buffer,
    headers: Record<string, string>,
    method = "POST",
  ) => {
    const reply = await post(target.url, body, headers, method);
    answers.push(reply.text);
    return reply;
  };
  const json = { "Content-Type": "application/json", Authorization: `Bearer ${TOKEN}` };

  before(async () => {
    emulator = await startTestPubsub();
    pubsub = emulatorClient(emulator.host, "local-project");
    await pubsub.createTopic("launch-jobs");
    await pubsub.topic("launch-jobs").createSubscription("ingest-test");
    const env = { GOOGLE_CLOUD_PROJECT: "local-project", PUBSUB_EMULATOR_HOST: emulator.host };
    [open, signed] = await Promise.all([
      startIngest({ ...env, WEBHOOK_TOKEN: TOKEN }),
      startIngest({ ...env, WEBHOOK_TOKEN: TOKEN, WEBHOOK_SIGNING_SECRET: SECRET }),
    ]);
  });
  after(async () => {
    await Promise.allSettled([open?.fn.stop(), signed?.fn.stop()]);
    await pubsub?.close();
    await emulator?.close();
  });

  it("202: publishes the body as sent to launch-jobs with its idempotency key, and answers its ids", async () => {
    const body = launch();
    const reply = await send(open, body, json);
    assert.equal(reply.status, 202, reply.text);
    assert.match(String(reply.json.message_id), /^\d+$/);
    assert.match(String(reply.json.run_id), /^[a-z0-9]{8}$/);
    assert.match(String(reply.json.launch_id), /^[0-9a-f]{20}$/);
    assert.equal(reply.json.queue, "demo");
    const [message] = (await pullThrough(pubsub, "ingest-test", JSON.parse(body).name)).slice(-1);
    assert.equal(message?.data.toString("utf8"), body, "the data is the body exactly as sent");
    assert.equal(message?.messageId, reply.json.message_id);
    assert.match(String(message?.attributes.idempotency_key), /^ingest-body-sha256:[0-9a-f]{64}$/);
  });

  it("one W&B event sent twice has one key (same run_id); two events have two; X-Idempotency-Key wins", async () => {
    const body = launch();
    const a = await send(open, body, json);
    const b = await send(open, body, json);
    const reordered = JSON.stringify(
      Object.fromEntries(Object.entries(JSON.parse(body)).reverse()),
      null,
      1,
    );
    const c = await send(open, reordered, json);
    const other = await send(open, launch(), json);
    assert.deepEqual([a.status, b.status, c.status, other.status], [202, 202, 202, 202]);
    assert.equal(a.json.run_id, b.json.run_id);
    assert.equal(a.json.run_id, c.json.run_id, "key order and whitespace do not make a new launch");
    assert.notEqual(a.json.run_id, other.json.run_id);
    const keyed = await send(open, launch(), { ...json, "X-Idempotency-Key": "ci-build-4711" });
    const last = launch();
    const keyed2 = await send(open, last, { ...json, "X-Idempotency-Key": "ci-build-4711" });
    assert.equal(keyed.json.run_id, keyed2.json.run_id, "the header decides, not the body");
    const got = await pullThrough(pubsub, "ingest-test", JSON.parse(last).name);
    assert.equal(got.at(-1)?.attributes.idempotency_key, "ci-build-4711");
    const tooLong = await send(open, launch(), { ...json, "X-Idempotency-Key": "k".repeat(1025) });
    assert.equal(tooLong.status, 400, tooLong.text);
    assert.equal(
      (tooLong.json.error as { issues: Array<{ path: string }> }).issues[0]?.path,
      "headers.x-idempotency-key",
    );
  });

  it("405 for anything but POST, with Allow: POST", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const reply = await send(open, launch(), json, method);
      assert.equal(reply.status, 405, `${method}: ${reply.text}`);
      assert.equal(reply.headers.get("allow"), "POST");
      assert.equal((reply.json.error as { kind: string }).kind, "method_not_allowed");
    }
  });

  it("415 for a body that is not JSON by its content type, naming the header", async () => {
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/json; charset=latin1",
    ]) {
      const reply = await send(open, launch(), { ...json, "Content-Type": type });
      assert.equal(reply.status, 415, `${type}: ${reply.text}`);
      const error = reply.json.error as { issues: Array<{ path: string }> };
      assert.equal(error.issues[0]?.path, "headers.content-type");
    }
    const none = await post(open.url, Buffer.from(launch()), { Authorization: `Bearer ${TOKEN}` });
    assert.equal(none.status, 415, none.text);
    const ok = await send(open, launch(), {
      ...json,
      "Content-Type": "application/json; charset=UTF-8",
    });
    assert.equal(ok.status, 202, ok.text);
  });

  it("400 for malformed JSON, an empty body and schema errors, with every error's path as JSON", async () => {
    const bad = await send(open, '{"queue": "demo", "entity": ', json);
    assert.equal(bad.status, 400, bad.text);
    assert.match(String((bad.json.error as { message: string }).message), /not JSON/);
    const empty = await send(open, "", json);
    assert.equal(empty.status, 400, empty.text);
    assert.match(empty.text, /the body is empty/);
    const wrong = await send(
      open,
      JSON.stringify({ queue: "demo", projekt: "v", priority: 9, env: { WANDB_API_KEY: "x" } }),
      json,
    );
    assert.equal(wrong.status, 400, wrong.text);
    const issues = (wrong.json.error as { issues: Array<{ path: string; message: string }> })
      .issues;
    const paths = issues.map((i) => i.path).sort();
    assert.deepEqual(paths, ["entity", "env.WANDB_API_KEY", "priority", "project", "projekt"]);
    assert.match(issues.find((i) => i.path === "projekt")?.message ?? "", /did you mean "project"/);
    const array = await send(open, "[1, 2]", json);
    assert.equal(array.status, 400, array.text);
  });

  it("413 for a declared Content-Length over the limit, answered before any body byte is sent", async () => {
    const answer = await sendUntilAnswered(
      open.url,
      { ...json, "Content-Length": String(10 * 1024 * 1024) },
      Buffer.alloc(0),
      0,
    );
    assert.equal(answer.status, 413, answer.body);
    assert.equal(answer.bytesSent, 0);
    assert.match(answer.body, /over the 262144-byte limit/);
    const unauthenticated = await sendUntilAnswered(
      open.url,
      { "Content-Type": "application/json", "Content-Length": String(10 * 1024 * 1024) },
      Buffer.alloc(0),
      0,
    );
    assert.equal(unauthenticated.status, 401, "the token is checked before the body is read");
    assert.equal(unauthenticated.bytesSent, 0);
  });

  it("413 for a chunked body that crosses the limit, answered while the rest is still unsent", async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20); // JSON whitespace
    const answer = await sendUntilAnswered(
      open.url,
      { ...json, "Transfer-Encoding": "chunked" },
      chunk,
      1024,
    );
    assert.equal(answer.status, 413, answer.body);
    // 1024 chunks are 64 MiB. A server that read the whole body first would answer only
    // after all of it; this one answered at the limit, so the client had sent at most the
    // limit plus what the loopback socket buffers hold.
    assert.ok(answer.bytesSent < 16 * 1024 * 1024, `answered after ${answer.bytesSent} bytes`);
    const exact = await send(open, launch({ run_config: { pad: "x".repeat(LIMIT - 400) } }), json);
    assert.equal(exact.status, 202, "a body just under the limit is accepted");
  });

  it("401 for missing, malformed, wrong and differently-sized tokens", async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ["missing", { "Content-Type": "application/json" }],
      ["malformed", { ...json, Authorization: TOKEN }],
      [
        "basic",
        { ...json, Authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}` },
      ],
      ["wrong, same length", { ...json, Authorization: `Bearer ${TOKEN.slice(0, -1)}X` }],
      ["a prefix", { ...json, Authorization: `Bearer ${TOKEN.slice(0, 5)}` }],
      ["longer", { ...json, Authorization: `Bearer ${TOKEN}${TOKEN}` }],
      ["empty", { ...json, Authorization: "Bearer " }],
    ];
    for (const [what, headers] of cases) {
      sentSecrets.push(headers.Authorization ?? "");
      const reply = await send(open, launch({ name: `refused-token-${what}` }), headers);
      assert.equal(reply.status, 401, `${what}: ${reply.text}`);
      assert.equal(
        (reply.json.error as { issues: Array<{ path: string }> }).issues[0]?.path,
        "headers.authorization",
      );
    }
  });

  it("a refused request whose body ended leaves its keep-alive connection usable past the drain grace", async () => {
    // A 401 refuses on the head, then discards the body for up to 2 s. The next request on
    // the same connection spans that mark (its body ends 2.5 s later) and must get its answer.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(open.url);
    const request = (auth: string, body: string, endAfterMs: number) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = http.request(
          { agent, host: url.hostname, port: url.port, path: url.pathname, method: "POST" },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          },
        );
        req.on("error", reject);
        req.setHeader("Content-Type", "application/json");
        req.setHeader("Authorization", auth);
        req.write(body.slice(0, 1));
        setTimeout(() => req.end(body.slice(1)), endAfterMs);
      });
    sentSecrets.push("Bearer nope");
    try {
      const refused = await request("Bearer nope", launch({ name: "ka-1" }), 0);
      assert.equal(refused.status, 401);
      const next = await request(`Bearer ${TOKEN}`, launch({ name: "ka-2" }), 2500);
      assert.equal(next.reused, true, "the second request went over the same connection");
      assert.equal(next.status, 202);
    } finally {
      agent.destroy();
    }
  });

  it("with a signing secret: the X-Wandb-Signature in base64 (W&B's form) or hex is accepted; anything else is 401", async () => {
    const body = launch();
    const base64 = signBody(body, SECRET);
    const hex = Buffer.from(base64, "base64").toString("hex");
    sentSecrets.push(base64, hex);
    for (const signature of [base64, hex, `sha256=${hex}`]) {
      const reply = await send(signed, body, { ...json, "X-Wandb-Signature": signature });
      assert.equal(reply.status, 202, `${signature}: ${reply.text}`);
    }
    const flipped = Buffer.from(base64, "base64");
    flipped[31] = (flipped[31] ?? 0) ^ 1;
    const cases: Array<[string, string | undefined]> = [
      ["missing", undefined],
      ["malformed", "not a signature"],
      ["last byte wrong", flipped.toString("base64")],
      ["short", base64.slice(0, 20)],
      ["long", `${hex}${hex}`],
      ["other body", signBody(`${body} `, SECRET)],
      ["other secret", signBody(body, `${SECRET}x`)],
    ];
    for (const [what, signature] of cases) {
      if (signature) sentSecrets.push(signature);
      const headers = signature ? { ...json, "X-Wandb-Signature": signature } : json;
      const reply = await send(signed, launch({ name: `refused-signature-${what}` }), headers);
      assert.equal(reply.status, 401, `${what}: ${reply.text}`);
      assert.equal(
        (reply.json.error as { issues: Array<{ path: string }> }).issues[0]?.path,
        "headers.x-wandb-signature",
      );
    }
  });

  it("the W&B payload templates, filled as W&B fills them, are accepted with every value intact", async () => {
    const events = readEvents();
    const runIds = new Set<string>();
    for (const [template, list] of [
      ["payload-template-alias-added.json", events.alias_added],
      ["payload-template-model-linked.json", events.model_linked],
    ] as const) {
      for (const values of list) {
        const body = fillTemplate(readTemplate(template), values);
        assert.doesNotMatch(body, /\$\{/, "every variable was filled");
        const reply = await send(signed, body, wandbHeaders(body, TOKEN, SECRET));
        assert.equal(reply.status, 202, `${template}: ${reply.text}`);
        runIds.add(String(reply.json.run_id));
        const [got] = (
          await pullThrough(pubsub, "ingest-test", values.artifact_version ?? "?")
        ).slice(-1);
        const message = JSON.parse(got?.data.toString("utf8") ?? "{}");
        assert.equal(
          message.run_config.notes,
          values["artifact_metadata.notes"],
          "escaped characters survive",
        );
        assert.equal(message.author, values.event_author);
      }
    }
    assert.equal(runIds.size, 3, "three events, three launches");
  });

  it("a value pasted into the template unescaped is a 400 that points at the template", async () => {
    const values = readEvents().alias_added[0] ?? {};
    const body = fillTextually(readTemplate("payload-template-alias-added.json"), values);
    const reply = await send(open, body, json);
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.text, /not JSON.*payload template/);
  });

  it("nothing that was refused reached launch-jobs", async () => {
    const marker = `sentinel-${Date.now()}`;
    assert.equal((await send(open, launch({ name: marker }), json)).status, 202);
    const got = await pullThrough(pubsub, "ingest-test", marker);
    const leaked = got.filter((m) => m.data.toString("utf8").includes("refused-"));
    assert.deepEqual(
      leaked.map((m) => m.data.toString("utf8")),
      [],
    );
  });

  it("no token, secret or signature in any answer or log line", () => {
    const lines = [...open.lines, ...signed.lines];
    assert.ok(
      lines.some((l) => l.includes("webhook refused")),
      "the functions logged their refusals",
    );
    for (const sent of sentSecrets) {
      const bare = sent.replace(/^(Bearer|Basic) /, "");
      if (bare.length < 6) continue;
      for (const text of [...lines, ...answers]) {
        assert.ok(!text.includes(bare), `a secret value appeared in: ${text.slice(0, 200)}`);
      }
    }
  });
});

describe("ingest function misconfigured", { skip: skip ?? false }, () => {
  let emulator: PubsubEmulator;
  before(async () => {
    emulator = await startTestPubsub();
  });
  after(async () => {
    await emulator?.close();
  });

  it("without WEBHOOK_TOKEN it answers 500 to every request and logs why", async () => {
    const fn = await startIngest({
      GOOGLE_CLOUD_PROJECT: "local-project",
      PUBSUB_EMULATOR_HOST: emulator.host,
    });
    try {
      for (const [method, headers] of [
        ["POST", { "Content-Type": "application/json" }],
        ["POST", { "Content-Type": "application/json", Authorization: "Bearer anything" }],
        ["GET", {}],
      ] as const) {
        const reply = await post(fn.url, launch(), headers, method);
        assert.equal(reply.status, 500, reply.text);
        assert.equal((reply.json.error as { kind: string }).kind, "not_configured");
      }
      assert.ok(
        fn.lines.some((l) => /WEBHOOK_TOKEN is not set: every request is refused with 500/.test(l)),
        fn.lines.join("\n"),
      );
    } finally {
      await fn.fn.stop();
    }
  });

  it("a failed publish answers 503 and publishes nothing", async () => {
    const fn = await startIngest({
      GOOGLE_CLOUD_PROJECT: "local-project",
      PUBSUB_EMULATOR_HOST: emulator.host,
      WEBHOOK_TOKEN: TOKEN,
      LAUNCH_TOPIC: "no-such-topic",
    });
    try {
      const reply = await post(fn.url, launch(), {
        "Content-Type": "application/json",
        Authorization: `Bearer ${TOKEN}`,
      });
      assert.equal(reply.status, 503, reply.text);
      assert.equal(reply.headers.get("retry-after"), "10");
      assert.match(
        reply.text,
        /publishing the launch to no-such-topic failed.*nothing was published/,
      );
      assert.ok(!reply.text.includes(TOKEN));
    } finally {
      await fn.fn.stop();
    }
  });

  it("a bad variable stops start-up and names it without echoing the value", async () => {
    const lines: string[] = [];
    await assert.rejects(
      startFunction({
        name: "ingest",
        source: "functions/ingest/index.ts",
        port: 0,
        signatureType: "http",
        env: {
          PATH: process.env.PATH,
          GOOGLE_CLOUD_PROJECT: "p",
          MAX_MESSAGE_BYTES: "lots-of-bytes",
          LOG_LEVEL: "shouty-level",
          WEBHOOK_TOKEN: "has space-secret",
        },
        onLine: (l) => lines.push(l),
      }),
      /exited with 1 before it listened/,
    );
    const output = lines.join("\n");
    assert.match(output, /the ingest function's environment is invalid/);
    assert.match(output, /MAX_MESSAGE_BYTES: expected a whole number of bytes/);
    assert.match(output, /LOG_LEVEL: expected debug, info, warning or error/);
    assert.match(output, /WEBHOOK_TOKEN: must not contain spaces/);
    for (const value of ["space-secret", "shouty-level", "lots-of-bytes"]) {
      assert.ok(!output.includes(value), `${value} was echoed: ${output}`);
    }
  });
});
