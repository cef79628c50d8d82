// The Pub/Sub harness end to end on Google's emulator: the production topology, push
// deliveries (raw body and through the Functions Framework), retry and dead-letter
// behaviour, pull subscriptions, and teardown of the whole java process tree.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import * as functions from "@google-cloud/functions-framework";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import type { PubSub } from "@google-cloud/pubsub";
import {
  createTopology,
  emulatorClient,
  freePort,
  type PubsubEmulator,
  pubsubMissing,
  pullMessages,
  pushEndpoint,
  SUBSCRIPTIONS,
  startPubsubEmulator,
  TOPICS,
} from "../../local/pubsub/index.js";
import { pubsubPublisher } from "../../shared/status.js";
import { eventually } from "../helpers/eventually.js";
import { pubsubSkipReason, skipWithoutPubsub, startTestPubsub } from "../helpers/pubsub.js";

const PROJECT = "local-project";

interface Push {
  at: number;
  path: string;
  body: {
    subscription?: string;
    deliveryAttempt?: number;
    message: {
      data: string;
      attributes?: Record<string, string>;
      messageId: string;
      publishTime: string;
    };
  };
}

/** A push endpoint that records every delivery and fails those with attribute fail=1. */
function pushReceiver(): Promise<{ server: Server; url: string; pushes: Push[] }> {
  const pushes: Push[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => {
      text += chunk;
    });
    req.on("end", () => {
      const body = JSON.parse(text) as Push["body"];
      pushes.push({ at: Date.now(), path: req.url ?? "", body });
      res.writeHead(body.message.attributes?.fail === "1" ? 500 : 204);
      res.end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}`, pushes });
    }),
  );
}

interface Received {
  type: string;
  source: string;
  id: string;
  data: {
    message: {
      data: string;
      attributes: Record<string, string>;
      messageId: string;
      publishTime: string;
    };
  };
}

const cloudEvents: Received[] = [];
functions.cloudEvent("pubsubHarnessProbe", (event: unknown) => {
  const received = event as unknown as Received;
  cloudEvents.push(received);
  if (received.data.message.attributes.fail === "1") throw new Error("the function failed");
});

/** Waits until `probe` returns something (the shared `eventually`, with this file's default timeout). */
function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000) {
  return eventually(probe, { timeout: timeoutMs, what });
}

function emulatorJavaPids(port: number): number[] {
  try {
    const out = execFileSync("pgrep", ["-f", `cloud-pubsub-emulator.*--port=${port}\\b`], {
      encoding: "utf8",
    });
    return out.split("\n").filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe("Pub/Sub harness", () => {
  let emulator: PubsubEmulator | undefined;
  let client: PubSub;
  let receiver: Awaited<ReturnType<typeof pushReceiver>>;
  let framework: Server;

  before(async () => {
    if (pubsubSkipReason()) return;
    emulator = await startTestPubsub(PROJECT);
    client = emulatorClient(emulator.host, PROJECT);
    receiver = await pushReceiver();
    framework = getTestServer("pubsubHarnessProbe");
    await new Promise<void>((resolve) => framework.listen(0, "127.0.0.1", () => resolve()));
    const frameworkUrl = `http://127.0.0.1:${(framework.address() as AddressInfo).port}`;
    await createTopology(client, {
      pushEndpoints: {
        dispatch: pushEndpoint(receiver.url, PROJECT, TOPICS.jobs),
        poll: pushEndpoint(frameworkUrl, PROJECT, TOPICS.poll),
      },
      retry: { minimumBackoffSeconds: 1, maximumBackoffSeconds: 2 },
    });
  });

  after(async () => {
    await client?.close();
    receiver?.server.close();
    framework?.close();
    await emulator?.close();
  });

  it("creates the production topology, idempotently", async (t) => {
    if (skipWithoutPubsub(t)) return;
    await createTopology(client, {});
    const [topics] = await client.getTopics();
    assert.deepEqual(
      topics.map((x) => x.name.split("/").pop()).sort(),
      Object.values(TOPICS).sort(),
    );
    const [dispatch] = await client.subscription(SUBSCRIPTIONS.dispatch).getMetadata();
    assert.equal(dispatch.topic, `projects/${PROJECT}/topics/${TOPICS.jobs}`);
    assert.equal(
      dispatch.pushConfig?.pushEndpoint,
      pushEndpoint(receiver.url, PROJECT, TOPICS.jobs),
    );
    assert.equal(
      dispatch.deadLetterPolicy?.deadLetterTopic,
      `projects/${PROJECT}/topics/${TOPICS.deadLetter}`,
    );
    assert.equal(dispatch.deadLetterPolicy?.maxDeliveryAttempts, 5);
    assert.equal(Number(dispatch.retryPolicy?.minimumBackoff?.seconds), 1);
    assert.equal(Number(dispatch.retryPolicy?.maximumBackoff?.seconds), 2);
    const [status] = await client.subscription(SUBSCRIPTIONS.statusLocal).getMetadata();
    assert.equal(status.pushConfig?.pushEndpoint ?? "", "");
    assert.equal(status.enableMessageOrdering, true, "launch-status-local is ordered (SPEC §7)");
  });

  it("pushes the wrapped body: message {data, attributes, messageId, publishTime}, subscription", async (t) => {
    if (skipWithoutPubsub(t)) return;
    const id = await client
      .topic(TOPICS.jobs)
      .publishMessage({ json: { hello: 1 }, attributes: { k: "v" } });
    const push = await until("the push", () =>
      receiver.pushes.find((p) => p.body.message.messageId === id),
    );
    assert.equal(push.path, `/projects/${PROJECT}/topics/${TOPICS.jobs}`);
    assert.equal(
      push.body.subscription,
      `projects/${PROJECT}/subscriptions/${SUBSCRIPTIONS.dispatch}`,
    );
    assert.equal(Buffer.from(push.body.message.data, "base64").toString(), '{"hello":1}');
    assert.deepEqual(push.body.message.attributes, { k: "v" });
    assert.match(push.body.message.publishTime, /^\d{4}-\d\d-\d\dT/);
    // Observed with pubsub-emulator 0.8.20; docs/emulators.md says so. Real Pub/Sub sends it.
    assert.equal(
      push.body.deliveryAttempt,
      undefined,
      "the emulator now sends deliveryAttempt: update the docs",
    );
  });

  it("redelivers a failed push with backoff, then dead-letters it after 5 attempts", async (t) => {
    if (skipWithoutPubsub(t)) return;
    const id = await client
      .topic(TOPICS.jobs)
      .publishMessage({ data: Buffer.from("poison"), attributes: { fail: "1" } });
    const dead = await pullMessages(client, SUBSCRIPTIONS.deadLetterLocal, { timeoutMs: 40_000 });
    const attempts = receiver.pushes.filter((p) => p.body.message.messageId === id);
    const gaps = attempts.slice(1).map((p, i) => p.at - (attempts[i]?.at ?? 0));
    console.log(
      `dead-letter after ${attempts.length} pushes; gaps between attempts (ms): ${gaps.join(", ")}`,
    );
    assert.equal(attempts.length, 5);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.data.toString(), "poison");
    assert.equal(dead[0]?.attributes.CloudPubSubDeadLetterSourceDeliveryCount, "5");
    assert.equal(
      dead[0]?.attributes.CloudPubSubDeadLetterSourceSubscription,
      SUBSCRIPTIONS.dispatch,
    );
    assert.equal(dead[0]?.attributes.fail, "1");
    assert.ok(
      gaps.every((g) => g >= 500),
      "redeliveries are spaced out",
    );
  });

  it("through the Functions Framework the push becomes a Pub/Sub CloudEvent; a throw is a nack", async (t) => {
    if (skipWithoutPubsub(t)) return;
    const id = await client
      .topic(TOPICS.poll)
      .publishMessage({ json: { tick: 1 }, attributes: { a: "b" } });
    const event = await until("the CloudEvent", () => cloudEvents.find((e) => e.id === id));
    assert.equal(event.type, "google.cloud.pubsub.topic.v1.messagePublished");
    assert.equal(event.source, `//pubsub.googleapis.com/projects/${PROJECT}/topics/${TOPICS.poll}`);
    assert.equal(Buffer.from(event.data.message.data, "base64").toString(), '{"tick":1}');
    assert.deepEqual(event.data.message.attributes, { a: "b" });
    assert.equal(event.data.message.messageId, id);
    assert.match(event.data.message.publishTime, /^\d{4}-/);

    const failing = await client
      .topic(TOPICS.poll)
      .publishMessage({ json: { tick: 2 }, attributes: { fail: "1" } });
    await until("a redelivery", () =>
      cloudEvents.filter((e) => e.id === failing).length >= 2 ? true : undefined,
    );
  });

  it("status events can be pulled from launch-status-local", async (t) => {
    if (skipWithoutPubsub(t)) return;
    const event = { launch_id: "l-1", state: "running" };
    await client
      .topic(TOPICS.status)
      .publishMessage({ json: event, attributes: { state: "running" } });
    const pulled = await pullMessages(client, SUBSCRIPTIONS.statusLocal, { timeoutMs: 10_000 });
    assert.equal(pulled.length, 1);
    assert.deepEqual(JSON.parse(pulled[0]?.data.toString() ?? ""), event);
    assert.deepEqual(pulled[0]?.attributes, { state: "running" });
    assert.deepEqual(await pullMessages(client, SUBSCRIPTIONS.statusLocal, { timeoutMs: 300 }), []);
  });

  it("status events carry launch_id, queue, state and attempt as attributes", async (t) => {
    if (skipWithoutPubsub(t)) return;
    const publish = pubsubPublisher(client, TOPICS.status);
    const states = ["submitted", "starting", "running", "finished"] as const;
    for (const [i, state] of states.entries()) {
      await publish({
        launch_id: "ordered-1",
        queue: "q",
        entity: "e",
        project: "p",
        run_id: "r",
        state,
        previous_state: i === 0 ? null : (states[i - 1] ?? null),
        vertex_state: null,
        job_name: null,
        console_url: null,
        error: null,
        warnings: [],
        attempt: 2,
        time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      });
    }
    const pulled = await pullMessages(client, SUBSCRIPTIONS.statusLocal, {
      min: 4,
      timeoutMs: 10_000,
    });
    // Ordered by launch_id: the events arrive in the order they were published.
    assert.deepEqual(
      pulled.map((m) => m.attributes),
      states.map((state) => ({ launch_id: "ordered-1", queue: "q", state, attempt: "2" })),
      `attributes of the ${pulled.length} pulled events`,
    );
  });
});

describe("Pub/Sub emulator lifecycle", () => {
  it("close() stops gcloud and java: no process is left", async (t) => {
    if (skipWithoutPubsub(t)) return;
    const emulator = await startPubsubEmulator({ port: 0 });
    assert.equal(emulatorJavaPids(emulator.port).length, 1, "one java process while running");
    await emulator.close();
    assert.deepEqual(emulatorJavaPids(emulator.port), []);
    await emulator.close(); // idempotent
  });

  it("when the Node process that started it is killed, the watchdog stops java", async (t) => {
    if (skipWithoutPubsub(t)) return;
    const script = `
      const { startPubsubEmulator } = await import(${JSON.stringify(new URL("../../local/pubsub/index.ts", import.meta.url).href)});
      const e = await startPubsubEmulator({ port: 0 });
      console.log(e.port);
      setInterval(() => {}, 1000);`;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      child.once("exit", (code) => reject(new Error(`the child exited early (${code})`)));
    });
    assert.equal(emulatorJavaPids(port).length, 1);
    child.kill("SIGKILL");
    await until(
      "java to stop",
      () => (emulatorJavaPids(port).length === 0 ? true : undefined),
      20_000,
    );
  });

  it("pubsubMissing explains what is missing", () => {
    const reason = pubsubMissing({ PATH: "/nonexistent" });
    assert.match(reason ?? "", /gcloud is not installed/);
  });

  it("tries another free port when another process binds the picked one first", async (t) => {
    if (skipWithoutPubsub(t)) return;
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", () => resolve()));
    const { port: taken } = busy.address() as AddressInfo;
    const picked: number[] = [];
    const lines: string[] = [];
    // The first pick is a port another process holds: what losing the race looks like.
    const pickPort = async (host: string) => {
      const port = picked.length === 0 ? taken : await freePort(host);
      picked.push(port);
      return port;
    };
    const emulator = await startPubsubEmulator({ pickPort, log: (l) => lines.push(l) });
    try {
      assert.equal(picked.length, 2);
      assert.equal(emulator.port, picked[1]);
      assert.notEqual(emulator.port, taken);
      assert.ok(lines.some((l) => l.includes(`lost 127.0.0.1:${taken} to another process`)));
    } finally {
      await emulator.close();
      busy.close();
    }
  });

  it("refuses a port already in use", async (t) => {
    if (skipWithoutPubsub(t)) return;
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", () => resolve()));
    const { port } = busy.address() as AddressInfo;
    await assert.rejects(startPubsubEmulator({ port }), /already in use/);
    busy.close();
  });
});
