// `vertex-dispatch emulators` as a user runs it: all three emulators on the endpoints
// from the environment, the exports printed, everything (java included) gone after SIGINT.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../../local/pubsub/index.js";
import { eventually } from "../helpers/eventually.js";
import { pubsubSkipReason } from "../helpers/pubsub.js";

const BIN = fileURLToPath(new URL("../../bin/vertex-dispatch.mjs", import.meta.url));

function javaFor(port: number): string {
  try {
    return execFileSync("pgrep", ["-f", `cloud-pubsub-emulator.*--port=${port}\\b`], {
      encoding: "utf8",
    });
  } catch {
    return "";
  }
}

async function run(env: Record<string, string>, until: RegExp) {
  const child = spawn(process.execPath, [BIN, "emulators", "--quiet"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  await eventually(() => until.test(stdout) || child.exitCode !== null, {
    timeout: 90_000,
    what: `output matching ${until} (or an exit)`,
    seen: () => ({ stdout: stdout.slice(-500), stderr: stderr.slice(-500) }),
    every: 100,
  }).catch(() => {}); // the caller asserts on the output, which says more than a timeout
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe("vertex-dispatch emulators", () => {
  it("runs all three where the variables say, prints the exports, and stops on SIGINT", async () => {
    const [pubsub, gcs, grpc, rest] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const missing = pubsubSkipReason();
    const { child, exited, out, err } = await run(
      {
        PUBSUB_EMULATOR_HOST: `127.0.0.1:${pubsub}`,
        GCS_ENDPOINT: `http://127.0.0.1:${gcs}`,
        VERTEX_ENDPOINT: `127.0.0.1:${grpc}`,
        VERTEX_REST_ENDPOINT: `http://127.0.0.1:${rest}`,
        GOOGLE_CLOUD_PROJECT: "cli-project",
      },
      /Ctrl-C/,
    );
    try {
      assert.match(out(), /Ctrl-C/, `not running:\n${out()}\n${err()}`);
      assert.match(out(), new RegExp(`export GCS_ENDPOINT=http://127.0.0.1:${gcs}\\n`));
      assert.match(out(), new RegExp(`export VERTEX_ENDPOINT=127.0.0.1:${grpc}\\n`));
      assert.match(out(), new RegExp(`export VERTEX_REST_ENDPOINT=http://127.0.0.1:${rest}\\n`));
      assert.match(out(), /export GOOGLE_CLOUD_PROJECT=cli-project\n/);
      assert.doesNotMatch(
        out(),
        /gcloud config set/,
        "never changes the user's gcloud configuration",
      );
      assert.match(
        out(),
        new RegExp(
          `export CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=http://127.0.0.1:${gcs}/storage/v1/\\n`,
        ),
      );
      assert.match(
        out(),
        new RegExp(
          `export CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM=http://127.0.0.1:${rest}/\\n`,
        ),
      );
      const buckets = await fetch(`http://127.0.0.1:${gcs}/storage/v1/b?project=cli-project`);
      assert.equal(buckets.status, 200);
      const jobs = await fetch(
        `http://127.0.0.1:${rest}/v1/projects/cli-project/locations/us-central1/customJobs`,
      );
      assert.equal(jobs.status, 200);
      if (missing) {
        console.warn(`!!! Pub/Sub part of the emulators test skipped: ${missing}`);
        assert.match(err(), /Pub\/Sub emulator is NOT running/);
      } else {
        assert.match(out(), new RegExp(`export PUBSUB_EMULATOR_HOST=127.0.0.1:${pubsub}\\n`));
        assert.equal((await (await fetch(`http://127.0.0.1:${pubsub}/`)).text()).trim(), "Ok");
        assert.notEqual(javaFor(pubsub), "");
      }
    } finally {
      child.kill("SIGINT");
    }
    assert.equal(await exited, 0);
    assert.match(out(), /stopped\./);
    assert.equal(javaFor(pubsub), "", "no java left behind");
    await assert.rejects(fetch(`http://127.0.0.1:${gcs}/storage/v1/b?project=cli-project`));
  });

  it("refuses a malformed endpoint variable with exit 2", async () => {
    const { exited, err } = await run({ GCS_ENDPOINT: "127.0.0.1:9023" }, /never/);
    assert.equal(await exited, 2);
    assert.match(err(), /GCS_ENDPOINT must be a URL/);
  });
});
