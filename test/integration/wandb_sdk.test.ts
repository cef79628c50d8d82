// Fidelity of the W&B emulator, proven with W&B's own client: wandb 0.30.0's
// wandb.sdk.launch.api.LaunchApi (which sends its GraphQL through the wandb-core service
// process shipped in the wheel, after verifying the key with a viewer query) drives push,
// queues, agents, pop, ack, warn and fail against the emulator. Skips loudly where the
// SDK cannot be installed.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startWandbEmulator, type WandbEmulator } from "../../local/wandb/index.js";
import { DRIVER, WANDB_VERSION, wandbPython } from "../helpers/wandb_sdk.js";

const sdk = wandbPython();
if ("skip" in sdk) console.warn(`\n!!! SKIPPED: the wandb SDK tests did not run: ${sdk.skip}\n`);

type Step = { step: string; result?: unknown; error?: string };

function drive(python: string, emulator: WandbEmulator, scenario: string, key = emulator.apiKey) {
  const home = mkdtempSync(join(tmpdir(), "vd-wandb-home-"));
  return new Promise<Step[]>((resolve, reject) => {
    execFile(
      python,
      [DRIVER, scenario],
      {
        timeout: 180_000,
        env: {
          PATH: process.env.PATH,
          HOME: home,
          WANDB_DIR: home,
          WANDB_CONFIG_DIR: home,
          WANDB_BASE_URL: emulator.url,
          WANDB_API_KEY: key,
        },
      },
      (err, stdout, stderr) => {
        rmSync(home, { recursive: true, force: true });
        const steps = stdout
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as Step);
        if (err && steps.length === 0) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(steps);
      },
    );
  });
}

function result(steps: Step[], name: string): unknown {
  const s = steps.find((x) => x.step === name);
  assert.ok(s, `no step ${name}: ${JSON.stringify(steps)}`);
  assert.equal(s.error, undefined, `${name} failed: ${s.error}`);
  return s.result;
}

describe(`W&B emulator with wandb ${WANDB_VERSION}'s LaunchApi`, {
  skip: "skip" in sdk ? sdk.skip : false,
}, () => {
  let emulator: WandbEmulator;
  const python = "python" in sdk ? sdk.python : "";

  before(async () => {
    emulator = await startWandbEmulator({ port: 0 });
    emulator.ctx.store.addQueue({
      entity: "acme",
      project: "model-registry",
      name: "vertex-q",
      access: "PROJECT",
      createdBy: "acme",
      resource: "gcp-vertex",
      config: {
        spec: { worker_pool_specs: [{ machine_spec: { accelerator_count: "{{gpus}}" } }] },
        run: { restart_job_on_worker_restart: false },
      },
      templateVariables: { gpus: { schema: { type: "integer", minimum: 0 }, default: 0 } },
    });
  });
  after(() => emulator.close());

  it("answers every launch call the agent and `wandb launch` make, as W&B does", async () => {
    const steps = await drive(python, emulator, "protocol");
    const pushed = result(steps, "push") as {
      runQueueItemId: string;
      runSpec: Record<string, unknown>;
    };
    // W&B merged the queue config, with the template variable filled, into the runSpec.
    assert.deepEqual(pushed.runSpec.resource_args, {
      "gcp-vertex": {
        spec: { worker_pool_specs: [{ machine_spec: { accelerator_count: 2 } }] },
        run: { restart_job_on_worker_restart: false },
      },
    });
    assert.deepEqual(result(steps, "queues"), [
      {
        id: emulator.ctx.store.findQueue("acme", "model-registry", "vertex-q")?.id,
        name: "vertex-q",
        createdBy: "acme",
        access: "PROJECT",
      },
    ]);
    const agentId = (result(steps, "agent") as { launchAgentId: string }).launchAgentId;
    assert.deepEqual(result(steps, "heartbeat"), { success: true });
    const agent = result(steps, "get_agent") as Record<string, unknown>;
    assert.equal(agent.id, agentId);
    assert.equal(agent.agentStatus, "POLLING");
    assert.equal(agent.stopPolling, false);
    assert.equal(result(steps, "is_team"), false);
    const popped = result(steps, "pop") as {
      runQueueItemId: string;
      runSpec: Record<string, unknown>;
    };
    assert.equal(popped.runQueueItemId, pushed.runQueueItemId);
    // The agent uses the popped runSpec as a dict: it arrives as a JSON object.
    assert.deepEqual(popped.runSpec, pushed.runSpec);
    assert.equal(result(steps, "ack"), true);
    const again = steps.find((s) => s.step === "ack_again");
    assert.match(
      again?.error ?? "",
      /already been acknowledged/,
      "a second ack is refused as W&B does",
    );
    assert.equal(result(steps, "warn"), true);
    assert.equal(result(steps, "fail"), true);
    assert.equal(result(steps, "pop_empty"), null);
    assert.match(
      steps.find((s) => s.step === "pop_missing_queue")?.error ?? "",
      /run queue nope not found/,
    );

    const item = emulator.ctx.store.items.get(pushed.runQueueItemId);
    assert.equal(item?.state, "FAILED");
    assert.equal(item?.priority, 1);
    assert.equal(item?.runName, "abc12345");
    assert.deepEqual(item?.error, {
      message: "queue config rejected",
      stage: "agent",
      filePaths: ["error.log"],
    });
    assert.deepEqual(item?.warnings, [
      { message: "image is not in Artifact Registry", stage: "agent", filePaths: null },
    ]);
    const agents = [...emulator.ctx.store.agents.values()];
    assert.equal(agents[0]?.version, "wandb@0.30.0");
    // The SDK's service verified the key first, with a viewer query.
    assert.equal(emulator.ctx.requests[0]?.operation, "viewer");
  });

  it("refuses a wrong key with 401, which the SDK reports as an error", async () => {
    const before = emulator.ctx.requests.length;
    const steps = await drive(python, emulator, "bad-key", "f".repeat(40));
    const failed = steps.find((s) => s.error !== undefined);
    assert.ok(failed, `the SDK accepted a wrong key: ${JSON.stringify(steps)}`);
    const seen = emulator.ctx.requests.slice(before);
    assert.ok(seen.length > 0 && seen.every((r) => r.status === 401), JSON.stringify(seen));
  });
});
