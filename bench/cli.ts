// CLI start-up (SPEC §12): `vertex-dispatch --help` and `render` beside `gcloud ai
// custom-jobs --help`, each exec to exit, alternating so load hits all three alike.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_JOB_SERVICE_ACCOUNT, demoMessage, demoQueueYaml } from "../local/stack/demo.js";
import { timedRun } from "./lib.js";

/** The `vertex-dispatch` executable as package.json's bin names it (whatever it runs). */
function binPath(root: string): string {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    bin: Record<string, string>;
  };
  const bin = pkg.bin["vertex-dispatch"];
  if (!bin) throw new Error('package.json has no bin "vertex-dispatch"');
  return join(root, bin);
}

async function checked(cmd: string, args: string[], cwd: string, what: string): Promise<number> {
  const env = { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: "1", PAGER: "cat" };
  const r = await timedRun(cmd, args, { cwd, env });
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}:\n${r.stderr.slice(-2000)}`);
  return r.ms;
}

export async function cliStartup(root: string, rounds: number, gcloud: string | null) {
  const dir = mkdtempSync(join(tmpdir(), "vd-bench-cli-"));
  try {
    const queue = join(dir, "demo.yaml");
    const message = join(dir, "launch.json");
    writeFileSync(queue, demoQueueYaml("us-central1"));
    writeFileSync(message, JSON.stringify(demoMessage("render-bench")));
    const bin = binPath(root);
    const render = ["render", "--file", queue, "--message", message, "--project", "local-project"];
    render.push("--region", "us-central1", "--service-account", DEMO_JOB_SERVICE_ACCOUNT);
    const out = { help: [] as number[], render: [] as number[], gcloud: [] as number[] };
    for (let i = -1; i < rounds; i++) {
      const help = await checked(bin, ["--help"], root, "vertex-dispatch --help");
      const rendered = await checked(bin, render, root, "vertex-dispatch render");
      const g = gcloud
        ? await checked(gcloud, ["ai", "custom-jobs", "--help"], root, "gcloud")
        : NaN;
      if (i < 0) continue; // the first round warms the file cache for all three
      out.help.push(help);
      out.render.push(rendered);
      if (gcloud) out.gcloud.push(g);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
