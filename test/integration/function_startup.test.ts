// A bad environment stops a function at start-up, loudly, naming the variable: it never
// starts serving and failing every message.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startFunction } from "../../local/stack/functions.js";

describe("function start-up", () => {
  for (const name of ["dispatch", "poll"]) {
    it(`${name} refuses to start with a bad environment and says which variable`, async () => {
      const lines: string[] = [];
      const env = {
        PATH: process.env.PATH,
        GOOGLE_CLOUD_PROJECT: "p",
        VERTEX_REGION: "us-central1",
        QUEUE_CONFIG_DIR: "/tmp",
        STATE_BUCKET: "gs://not-a-bucket-name",
        LEASE_SECONDS: "10",
      };
      await assert.rejects(
        startFunction({
          name,
          source: `functions/${name}/index.ts`,
          port: 0,
          env,
          onLine: (l) => lines.push(l),
        }),
        /exited with 1 before it listened/,
      );
      const output = lines.join("\n");
      assert.match(output, /the dispatcher's environment is invalid/);
      assert.match(
        output,
        /STATE_BUCKET is invalid \(expected a bucket name such as my-state-bucket \(no gs:\/\/\)\): set it to the name of the state bucket/,
      );
      assert.match(output, /LEASE_SECONDS must be greater than CREATE_DEADLINE_SECONDS/);
    });
  }
});
