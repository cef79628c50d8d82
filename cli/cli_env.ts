// What the operator commands (validate, submit, status, cancel) need from the
// environment: the project, the topics and state bucket, and the emulator endpoints when
// set. Flags win over variables; the local defaults of SPEC §9 apply only when the
// emulators are in use, so a misconfigured shell never talks to a real project by accident.
import { parseArgs } from "node:util";
import { DispatchError } from "../shared/errors.js";
import type { Env } from "./main.js";

export interface CliEnv {
  project: string;
  region: string;
  stateBucket: string;
  launchTopic: string;
  gcsEndpoint: string | undefined;
  pubsubHost: string | undefined;
}

export function cliEnv(
  env: Env,
  flags: { project?: string | undefined; region?: string | undefined } = {},
): CliEnv {
  const local = Boolean(env.PUBSUB_EMULATOR_HOST || env.GCS_ENDPOINT);
  const project =
    flags.project ?? env.GOOGLE_CLOUD_PROJECT ?? (local ? "local-project" : undefined);
  if (!project) {
    throw new DispatchError(
      "usage",
      "set GOOGLE_CLOUD_PROJECT (or pass --project) to the project the dispatcher is deployed in",
    );
  }
  return {
    project,
    region: flags.region ?? env.VERTEX_REGION ?? "us-central1",
    stateBucket: env.STATE_BUCKET ?? (local ? "local-state" : `${project}-vertex-dispatch-state`),
    launchTopic: env.LAUNCH_TOPIC ?? "launch-jobs",
    gcsEndpoint: env.GCS_ENDPOINT || undefined,
    pubsubHost: env.PUBSUB_EMULATOR_HOST || undefined,
  };
}

/** parseArgs with our usage errors: unknown flags and missing values exit 2 with the usage line. */
export function flags<T extends Record<string, { type: "string" | "boolean"; short?: string }>>(
  argv: string[],
  options: T,
  usage: string,
): ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>
>["values"] {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new DispatchError("usage", `${(err as Error).message}\nusage: vertex-dispatch ${usage}`);
  }
}

export function required(value: string | undefined, flag: string, usage: string): string {
  if (!value)
    throw new DispatchError("usage", `--${flag} is required\nusage: vertex-dispatch ${usage}`);
  return value;
}
