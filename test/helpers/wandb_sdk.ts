// Installs W&B's own client (wandb 0.30.0) into a cache venv for the fidelity tests of
// the W&B emulator. The package index here lacks an OpenTelemetry package wandb pins, so
// a plain `pip install wandb` fails; instead: `pip install --no-deps wandb==0.30.0`, then
// the dependencies the index has, with `opentelemetry.semconv` stood in for by
// test/helpers/python/opentelemetry_semconv_standin.py (only used to name telemetry
// attributes). Returns the venv's python, or why it cannot be had (the test then skips
// loudly). Installed once; a marker file says the install finished.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const WANDB_VERSION = "0.30.0";
const CACHE = resolve("node_modules/.cache/vertex-dispatch", `wandb-${WANDB_VERSION}`);
const VENV = join(CACHE, "venv");
const MARKER = join(CACHE, "installed-ok");
const STANDIN = resolve("test/helpers/python/opentelemetry_semconv_standin.py");
export const DRIVER = resolve("test/helpers/python/drive_launch_api.py");

const DEPS = [
  "click>=8.2.0",
  "opentelemetry-api>=1.43.0",
  "packaging",
  "platformdirs",
  "protobuf>=5,<8,!=5.28.0,!=5.29.0",
  "pydantic>=2.6,<3",
  "pyyaml",
  "requests>=2,<3",
  "typing-extensions>=4.8,<5",
  "xxhash>=3.0.0",
];
/** Pinned by wandb; each of these pins the absent semantic-conventions package. */
const NO_DEPS = [
  "opentelemetry-sdk",
  "opentelemetry-exporter-otlp-proto-http",
  "opentelemetry-exporter-otlp-proto-common",
  "opentelemetry-proto",
];

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, {
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 600_000,
    env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" },
  });
}

function sitePackages(python: string): string {
  return execFileSync(python, ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], {
    encoding: "utf8",
  }).trim();
}

/** The venv python with wandb installed, or { skip: why }. */
export function wandbPython(): { python: string } | { skip: string } {
  const python = join(VENV, "bin", "python");
  if (existsSync(MARKER)) return { python };
  try {
    execFileSync("python3", ["--version"], { stdio: "ignore" });
  } catch {
    return { skip: "python3 is not installed, so W&B's own client cannot be installed" };
  }
  try {
    mkdirSync(CACHE, { recursive: true });
    run("python3", ["-m", "venv", VENV]);
    const pip = join(VENV, "bin", "pip");
    run(pip, ["install", "--no-deps", `wandb==${WANDB_VERSION}`]);
    run(pip, ["install", ...DEPS]);
    run(pip, ["install", "--no-deps", ...NO_DEPS]);
    const semconv = join(sitePackages(python), "opentelemetry", "semconv");
    mkdirSync(semconv, { recursive: true });
    copyFileSync(STANDIN, join(semconv, "__init__.py"));
    run(python, ["-c", "from wandb.sdk.launch.api import LaunchApi"]);
    writeFileSync(MARKER, `wandb ${WANDB_VERSION}\n`);
    return { python };
  } catch (err) {
    const e = err as { message: string; stderr?: Buffer };
    const detail = e.stderr?.toString().trim().split("\n").slice(-3).join(" | ") ?? "";
    return {
      skip: `installing wandb ${WANDB_VERSION} failed: ${e.message.split("\n")[0]} ${detail}`,
    };
  }
}
