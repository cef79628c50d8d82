#!/usr/bin/env node
// The CLI start-up target of SPEC §12: `vertex-dispatch --help` and `render` against
// `gcloud ai custom-jobs --help`, measured side by side in one run (interleaved, so a
// noisy machine slows all three alike). Prints the `cli` section of bench/results.json:
// {"help_ms", "render_ms", "gcloud_help_ms", "ratio"} (medians; ratio = the slower of
// ours over gcloud's), with a bare `node -e 0` for scale and whether the bin used its V8
// code cache. `benchCli()` is exported for `npm run bench`. Figures are reported, never asserted.
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCli } from "./build-cli.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "bin", "vertex-dispatch.mjs");
const QUEUE = join(ROOT, "test", "fixtures", "examples", "queues", "gpu-template.yaml");
const MESSAGE = join(ROOT, "test", "fixtures", "examples", "messages", "template-vars.json");

function timed(cmd, args, env) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.error || r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${r.status}): ${r.error?.message ?? r.stderr}`,
    );
  }
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x) => Math.round(x * 10) / 10;

/** Runs each command `runs` times, interleaved; returns the medians and the ratio. */
export async function benchCli({ runs = 7 } = {}) {
  await buildCli({ quiet: true });
  const env = { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: "1", PAGER: "cat" };
  const ours = { ...env, GOOGLE_CLOUD_PROJECT: "acme-ml" };
  const help = [];
  const render = [];
  const gcloud = [];
  const node = [];
  // One warm-up of each: the first call fills the OS file cache for all of them.
  timed(process.execPath, [BIN, "--help"], ours);
  timed(process.execPath, [BIN, "render", "--file", QUEUE, "--message", MESSAGE], ours);
  timed("gcloud", ["ai", "custom-jobs", "--help"], env);
  for (let i = 0; i < runs; i++) {
    help.push(timed(process.execPath, [BIN, "--help"], ours));
    render.push(
      timed(process.execPath, [BIN, "render", "--file", QUEUE, "--message", MESSAGE], ours),
    );
    gcloud.push(timed("gcloud", ["ai", "custom-jobs", "--help"], env));
    node.push(timed(process.execPath, ["-e", "0"], env));
  }
  // What became of the V8 code cache the build made (scripts/code_cache_load.mjs): "used" unless broken.
  const probe = spawnSync(process.execPath, [BIN, "--help"], {
    env: { ...ours, VD_CODE_CACHE_DEBUG: "1" },
    encoding: "utf8",
  });
  const cli = {
    help_ms: round(median(help)),
    render_ms: round(median(render)),
    gcloud_help_ms: round(median(gcloud)),
    ratio: 0,
    /** A bare `node -e 0`, for scale: the floor of any Node CLI here. */
    node_bare_ms: round(median(node)),
    code_cache: /^code cache (\w+)/.exec(probe.stderr)?.[1] ?? "unknown",
    runs,
  };
  cli.ratio = Math.round((Math.max(cli.help_ms, cli.render_ms) / cli.gcloud_help_ms) * 1000) / 1000;
  const machine = { cpus: cpus().length, loadavg: loadavg().map(round), node: process.version };
  return { cli, machine };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 7);
  const result = await benchCli({ runs });
  console.log(JSON.stringify(result, null, 2));
}
