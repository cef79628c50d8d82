// Runs the real `gcloud` CLI against the local emulators, with a throwaway config
// directory (CLOUDSDK_CONFIG) so the user's own gcloud setup is never read or changed.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Why gcloud cannot run here, or null when it can. */
export function gcloudMissing(): string | null {
  try {
    execFileSync("gcloud", ["--version"], { stdio: "ignore", timeout: 60_000 });
    return null;
  } catch {
    return "gcloud is not installed (install the Google Cloud CLI to run the gcloud conformance tests)";
  }
}

export interface Gcloud {
  /** Runs `gcloud ARGS` and resolves with stdout, stderr and the exit code; never throws for a non-zero exit. */
  run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Removes the throwaway config directory. */
  close(): void;
}

/**
 * A gcloud with credentials disabled and the given endpoint overrides, e.g.
 * `{ aiplatform: "http://127.0.0.1:9011/", storage: "http://127.0.0.1:9023/storage/v1/" }`.
 */
export function makeGcloud(overrides: Record<string, string>, project = "local-project"): Gcloud {
  const dir = mkdtempSync(join(tmpdir(), "vd-gcloud-"));
  const env = { ...process.env, CLOUDSDK_CONFIG: dir, CLOUDSDK_CORE_DISABLE_PROMPTS: "1" };
  const settings: Array<[string, string]> = [
    ["auth/disable_credentials", "true"],
    ["core/project", project],
    ["core/disable_usage_reporting", "true"],
    ["component_manager/disable_update_check", "true"],
    ...Object.entries(overrides).map(([api, url]): [string, string] => [
      `api_endpoint_overrides/${api}`,
      url,
    ]),
  ];
  for (const [key, value] of settings) {
    execFileSync("gcloud", ["config", "set", key, value], {
      env,
      stdio: "ignore",
      timeout: 60_000,
    });
  }
  return {
    run(args) {
      return new Promise((resolve) => {
        execFile("gcloud", args, { env, timeout: 120_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
      });
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
