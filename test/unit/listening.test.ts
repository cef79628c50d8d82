// local/stack/listening.ts: a child's port is read from the child itself, so another process
// on the port is never taken for it (the race a connect-only check lost in CI).
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { after, describe, it, type TestContext } from "node:test";
import {
  CAN_READ_LISTENERS,
  listeningPorts,
  waitForListener,
} from "../../local/stack/listening.js";

/** A child that listens on `port` (0: any) and prints the port it got. */
function listener(port: number): { child: ChildProcess; exited: Promise<number | string> } {
  const child = spawn(
    process.execPath,
    [
      "-e",
      `require("node:net").createServer().listen(${port}, function () { console.log(this.address().port); });`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? 0)),
  );
  return { child, exited };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      if (out.includes("\n")) resolve(out.trim());
    });
  });
}

const children: ChildProcess[] = [];
const servers: Server[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
  for (const s of servers) s.close();
});

function needsProc(t: TestContext): boolean {
  if (CAN_READ_LISTENERS) return true;
  const why = "local/stack/listening.ts reads listening sockets from Linux's /proc";
  console.error(`\n*** SKIPPED: ${why}; this is ${process.platform} ***\n`);
  t.skip(why);
  return false;
}

describe("waiting for a child to listen", () => {
  it("learns the port a child bound on port 0, from the child", async (t) => {
    if (!needsProc(t)) return;
    const { child, exited } = listener(0);
    children.push(child);
    const printed = firstLine(child);
    const port = await waitForListener({ pid: child.pid ?? 0, port: 0, exited, what: "child" });
    assert.equal(String(port), await printed);
    assert.deepEqual(listeningPorts(child.pid ?? 0), [port]);
    assert.deepEqual(listeningPorts(process.pid), [], "this process listens on nothing");
  });

  it("does not take another process on the asked port for the child", async (t) => {
    if (!needsProc(t)) return;
    const other = createServer();
    servers.push(other);
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const taken = (other.address() as { port: number }).port;
    // The child cannot bind it and exits; a connect to the port would still succeed.
    const { child, exited } = listener(taken);
    children.push(child);
    await assert.rejects(
      waitForListener({ pid: child.pid ?? 0, port: taken, exited, what: "child" }),
      /child exited with 1 before it listened/,
    );
  });

  it("names what it waited for when the deadline passes", async (t) => {
    if (!needsProc(t)) return;
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"]);
    children.push(child);
    const exited = new Promise<unknown>(() => {});
    await assert.rejects(
      waitForListener({
        pid: child.pid ?? 0,
        port: 0,
        exited,
        what: "idle child",
        deadlineMs: 300,
      }),
      /idle child did not listen on a port within 0.3 s/,
    );
  });
});
