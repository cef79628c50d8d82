import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../shared/log.js";

function capture(level?: "debug" | "info" | "warning" | "error", secrets: string[] = []) {
  const lines: string[] = [];
  const log = createLogger({ level, secrets, write: (l) => lines.push(l) });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("logger", () => {
  it("writes one JSON line with severity, message and fields", () => {
    const { log, parsed } = capture();
    log.with({ launch_id: "L1", queue: "q" }).info("created", { job_name: "j" });
    const [line] = parsed();
    assert.equal(line?.severity, "INFO");
    assert.equal(line?.message, "created");
    assert.equal(line?.launch_id, "L1");
    assert.equal(line?.queue, "q");
    assert.equal(line?.job_name, "j");
  });

  it("drops lines below the level", () => {
    const { log, lines } = capture("warning");
    log.info("no");
    log.warning("yes");
    assert.equal(lines.length, 1);
  });

  it("masks registered secrets anywhere and secret-named fields", () => {
    const { log, lines } = capture("info", ["wandb-key-0123456789"]);
    log.error("failed with wandb-key-0123456789 inside", {
      nested: { text: "x wandb-key-0123456789" },
      api_key: "other",
      token: "t0k",
    });
    const [line] = lines;
    assert.ok(line);
    assert.doesNotMatch(line, /wandb-key-0123456789/);
    assert.doesNotMatch(line, /t0k|"other"/);
    assert.match(line, /<redacted>/);
  });

  it("serialises errors and never throws, even on cycles", () => {
    const { log, lines } = capture();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.info("cycle", { cyclic });
    log.info("err", { error: Object.assign(new Error("boom"), { code: 14 }) });
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0] ?? "{}").error, {
      name: "Error",
      message: "boom",
      code: 14,
    });
  });
});
