// Injected faults (code, count, rate, delay, after-effect, transport, every method) on both
// transports, and the instant and timed clocks of the Vertex emulator.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startVertexEmulator, type VertexEmulator } from "../../local/vertex/index.js";
import {
  grpcClient,
  type JobServiceClient,
  PARENT,
  rest,
  restError,
  validJob,
} from "../helpers/vertex.js";

let emulator: VertexEmulator;
let client: JobServiceClient;

before(async () => {
  emulator = await startVertexEmulator({
    grpcPort: 0,
    restPort: 0,
    clock: { mode: "manual" },
    faultSeed: 7,
  });
  client = grpcClient(emulator);
});

after(async () => {
  await client.close();
  await emulator.close();
});

beforeEach(() => emulator.control.reset());

async function grpcCode(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

const create = () => client.createCustomJob({ parent: PARENT, customJob: validJob() });

const getMissing = () => client.getCustomJob({ name: `${PARENT}/customJobs/1234567890123456789` });

describe("faults", () => {
  test("a count-limited fault fails that many calls, then is spent", async () => {
    const rule = emulator.control.addFault({
      method: "CreateCustomJob",
      code: "UNAVAILABLE",
      count: 2,
    });
    assert.equal(rule.code, 14);
    assert.equal(await grpcCode(create()), 14);
    const rest503 = await rest(emulator, "POST", `/v1/${PARENT}/customJobs`, validJob());
    assert.deepEqual(
      [rest503.status, restError(rest503)],
      [503, { code: 503, status: "UNAVAILABLE", message: "The service is currently unavailable." }],
    );
    assert.equal(await grpcCode(create()), 0);
    assert.deepEqual(emulator.control.listFaults(), []);
    assert.deepEqual(emulator.control.requests().counts.CreateCustomJob, {
      total: 3,
      ok: 1,
      errors: 2,
    });
  });

  test("a fault without a count fails every call until removed; only its method is affected", async () => {
    const rule = emulator.control.addFault({
      method: "ListCustomJobs",
      code: 8,
      message: "Quota exceeded for list.",
    });
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        client.listCustomJobs({ parent: PARENT }),
        (err: Error & { code?: number }) => {
          assert.equal(err.code, 8);
          assert.match(err.message, /Quota exceeded for list\./);
          return true;
        },
      );
    }
    const http = await rest(emulator, "GET", `/v1/${PARENT}/customJobs`);
    assert.equal(http.status, 429);
    assert.equal(await grpcCode(create()), 0);
    assert.equal(emulator.control.removeFault(rule.id), true);
    assert.equal(await grpcCode(client.listCustomJobs({ parent: PARENT })), 0);
  });

  test("a rate fault fails about that share of calls (seeded)", async () => {
    emulator.control.addFault({ method: "GetCustomJob", code: "INTERNAL", rate: 0.5 });
    const codes: number[] = [];
    for (let i = 0; i < 40; i++) {
      codes.push(
        (await rest(emulator, "GET", `/v1/${PARENT}/customJobs/1234567890123456789`)).status,
      );
    }
    const failed = codes.filter((c) => c === 500).length;
    assert.ok(failed > 8 && failed < 32, `${failed} of 40 failed`);
    assert.equal(codes.filter((c) => c === 404).length, 40 - failed);
  });

  test("a delay slows calls down without failing them; delays add up with errors", async () => {
    emulator.control.addFault({ method: "*", delayMs: 150 });
    let started = Date.now();
    assert.equal(await grpcCode(getMissing()), 5);
    assert.ok(Date.now() - started >= 140);
    emulator.control.addFault({
      method: "CancelCustomJob",
      code: "DEADLINE_EXCEEDED",
      delayMs: 100,
    });
    started = Date.now();
    const http = await rest(emulator, "POST", `/v1/${PARENT}/customJobs/1:cancel`, {});
    assert.equal(http.status, 504);
    assert.ok(Date.now() - started >= 240);
  });

  test('an "after" fault lets the call take effect, then fails it (a create that may have worked)', async () => {
    emulator.control.addFault({
      method: "CreateCustomJob",
      code: "DEADLINE_EXCEEDED",
      when: "after",
      count: 1,
    });
    assert.equal(await grpcCode(create()), 4);
    const [jobs] = await client.listCustomJobs({ parent: PARENT, filter: "labels.team=ml" });
    assert.equal(jobs.length, 1);
  });

  test("a transport-specific fault leaves the other transport alone", async () => {
    emulator.control.addFault({
      method: "GetCustomJob",
      code: "UNAUTHENTICATED",
      transport: "rest",
    });
    assert.equal(await grpcCode(getMissing()), 5);
    const http = await rest(emulator, "GET", `/v1/${PARENT}/customJobs/1`);
    assert.equal(http.status, 401);
  });

  test("bad fault definitions are refused", () => {
    assert.throws(
      () => emulator.control.addFault({ method: "GetCustomJob" }),
      /code, a delayMs, or both/,
    );
    assert.throws(
      () => emulator.control.addFault({ method: "GetCustomJob", code: "NOPE" }),
      /not an error code/,
    );
    assert.throws(
      () => emulator.control.addFault({ method: "GetCustomJob", code: 0 }),
      /not an error code/,
    );
    assert.throws(
      () => emulator.control.addFault({ method: "GetCustomJob", code: 14, rate: 2 }),
      /rate/,
    );
    assert.throws(
      () => emulator.control.addFault({ method: "GetCustomJob", code: 14, count: 0 }),
      /count/,
    );
  });
});

describe("clocks", () => {
  async function state(name: string): Promise<string> {
    const [job] = await client.getCustomJob({ name });
    return String(job.state);
  }

  test("instant: the create answers QUEUED and the job has finished by the next call", async () => {
    emulator.control.setClock({ mode: "instant" });
    const [job] = await create();
    assert.equal(job.state, "JOB_STATE_QUEUED");
    const [done] = await client.getCustomJob({ name: job.name ?? "" });
    assert.equal(done.state, "JOB_STATE_SUCCEEDED");
    assert.ok(done.startTime && done.endTime);
  });

  test("switching to instant runs every live job to its end; cancel is instant too", async () => {
    const [a] = await create();
    const [b] = await create();
    emulator.control.setOutcome({ job: b.name ?? "", outcome: "fail" });
    emulator.control.setClock({ mode: "instant" });
    assert.equal(await state(a.name ?? ""), "JOB_STATE_SUCCEEDED");
    assert.equal(await state(b.name ?? ""), "JOB_STATE_FAILED");
    emulator.control.setClock({ mode: "manual" });
    const [c] = await create();
    emulator.control.setClock({ mode: "instant" });
    emulator.control.setClock({ mode: "manual" });
    const [d] = await create();
    emulator.control.setClock({ mode: "instant" });
    assert.equal(await state(c.name ?? ""), "JOB_STATE_SUCCEEDED");
    assert.equal(await state(d.name ?? ""), "JOB_STATE_SUCCEEDED");
  });

  test("timed: each state lasts its configured time", async () => {
    emulator.control.setClock({
      mode: "timed",
      queuedSeconds: 0.4,
      pendingSeconds: 0.4,
      runningSeconds: 0.4,
      cancellingSeconds: 0.3,
    });
    // What is asserted does not depend on how fast this machine polls: the states seen come
    // in the lifecycle's order (a loaded machine may miss one), and the job's own times
    // show each state lasted its configured time.
    const ORDER = [
      "JOB_STATE_QUEUED",
      "JOB_STATE_PENDING",
      "JOB_STATE_RUNNING",
      "JOB_STATE_SUCCEEDED",
    ];
    const [job] = await create();
    const name = job.name ?? "";
    const seen = await statesUntil(name, "JOB_STATE_SUCCEEDED");
    assert.deepEqual(
      seen,
      ORDER.filter((s) => seen.includes(s)),
      "states seen, in order",
    );
    const [done] = await client.getCustomJob({ name });
    const ms = (t: { seconds?: unknown; nanos?: unknown } | null | undefined) =>
      Number(t?.seconds) * 1000 + Number(t?.nanos ?? 0) / 1e6;
    assert.ok(ms(done.startTime) - ms(done.createTime) >= 790, "queued + pending lasted 0.8 s");
    assert.ok(ms(done.endTime) - ms(done.startTime) >= 390, "running lasted 0.4 s");

    const [other] = await create();
    const cancelledAt = Date.now();
    await client.cancelCustomJob({ name: other.name ?? "" });
    const afterCancel = await statesUntil(other.name ?? "", "JOB_STATE_CANCELLED");
    assert.deepEqual(
      afterCancel,
      ["JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED"].filter((s) => afterCancel.includes(s)),
      "states seen after the cancel, in order",
    );
    const [cancelled] = await client.getCustomJob({ name: other.name ?? "" });
    assert.ok(ms(cancelled.endTime) - cancelledAt >= 290, "cancelling lasted 0.3 s");
  });

  /** The distinct states a job shows, polled every 10 ms, until `last` (at most 10 s). */
  async function statesUntil(name: string, last: string): Promise<string[]> {
    const seen: string[] = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const s = await state(name);
      if (seen.at(-1) !== s) seen.push(s);
      if (s === last) return seen;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`${name} did not reach ${last} in 10 s; states seen: ${seen.join(", ")}`);
  }
});
