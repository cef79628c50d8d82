// `npm run chaos -- --launches N [--seed S] [--fault-rate R] [--kills K] [--poison P]
// [--max-jobs M] [--lease-seconds L] [--create-deadline-seconds D] [--json FILE] [--function-log FILE]`:
// runs the chaos suite and ends with the SPEC §12 `chaos:` line; exits 1 if the run failed.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { stackMissing } from "../helpers/stack.js";
import { DEFAULTS, runChaos } from "./harness.js";

const FLAGS = {
  launches: "launches",
  seed: "seed",
  "fault-rate": "faultRate",
  kills: "kills",
  poison: "poison",
  "max-jobs": "maxJobs",
  "lease-seconds": "leaseSeconds",
  "create-deadline-seconds": "createDeadlineSeconds",
  "settle-timeout-seconds": "settleTimeoutMs",
} as const;

function usage(message: string): never {
  process.stderr.write(
    `chaos: ${message}\nusage: npm run chaos -- --launches N [${Object.keys(FLAGS)
      .filter((f) => f !== "launches")
      .map((f) => `--${f} X`)
      .join("] [")}] [--json FILE] [--function-log FILE]\n`,
  );
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: "string" as const }])),
    json: { type: "string" },
    "function-log": { type: "string" },
  },
  strict: false,
});
const options: Record<string, number> = {};
for (const [flag, key] of Object.entries(FLAGS)) {
  const raw = values[flag];
  if (raw === undefined) continue;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(n) || n < 0)
    usage(`--${flag} must be a non-negative number, got ${JSON.stringify(raw)}`);
  options[key] = key === "settleTimeoutMs" ? n * 1000 : n;
}
if (options.launches === undefined) usage("--launches N is required (1,000 for the full run)");
if (!Number.isInteger(options.launches) || (options.launches ?? 0) < 1)
  usage("--launches must be a whole number >= 1");
if ((options.faultRate ?? 0) > 1) usage("--fault-rate is a share of calls, 0..1 (e.g. 0.05)");
const why = stackMissing();
if (why) {
  process.stderr.write(`!!! ${why}\n`);
  process.exit(1);
}
const result = await runChaos({
  ...options,
  settleTimeoutMs:
    options.settleTimeoutMs ?? Math.max(DEFAULTS.settleTimeoutMs, (options.launches ?? 0) * 3000),
  log: (line) => process.stderr.write(`${line}\n`),
  functionLines: (lines) => {
    const file = values["function-log"];
    if (typeof file === "string") writeFileSync(file, `${lines.join("\n")}\n`);
  },
});
const report = { ...result, verdict: result.verdict };
process.stderr.write(
  `${JSON.stringify({ verdict: result.verdict, faults: result.faultsByKind, write_rates: result.writeRates, push: result.push, publishes: result.publishes, elapsed_ms: result.elapsedMs }, null, 2)}\n`,
);
if (typeof values.json === "string")
  writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
process.stderr.write(`${result.writesLine}\n`);
process.stdout.write(`${result.line}\n`);
process.exit(result.ok ? 0 : 1);
