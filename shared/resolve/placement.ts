// Step "placement": where the job runs and as whom. Project, region and service account
// have one shape: the value the queue config writes (for the service account: run, then
// spec, then the queue's key), else the dispatcher's default, which names where it came
// from (its variable, or the render flag standing in for it) when it is missing or bad.
import { PROJECT_ID_RE, SERVICE_ACCOUNT_RE } from "../schemas/queue_config.js";
import { checkRegion } from "./compute.js";
import type { IssueCollector } from "./issues.js";
import type { ResolveInput } from "./types.js";
import type { Checked } from "./validate_sections.js";

/** A placement value and whether it is the dispatcher's default (from `source`). */
interface Choice {
  value: string | undefined;
  fromDefault: boolean;
  source: string;
}

function choose(
  written: readonly (string | undefined)[],
  fallback: string | undefined,
  source: string,
): Choice {
  const value = written.find((v) => v !== undefined);
  if (value !== undefined) return { value, fromDefault: false, source: "the queue config" };
  return { value: fallback === "" ? undefined : fallback, fromDefault: true, source };
}

export interface Placement {
  project: string;
  region: string;
  serviceAccount: string;
}

export function resolvePlacement(
  input: ResolveInput,
  c: Checked,
  issues: IssueCollector,
): Placement {
  const { config, defaults } = input;
  const src = defaults.sources ?? {};
  const project = choose([config.project], defaults.project, src.project ?? "GOOGLE_CLOUD_PROJECT");
  const region = choose([config.region], defaults.region, src.region ?? "VERTEX_REGION");
  const account = choose(
    [c.run.service_account, c.spec.service_account, config.service_account],
    defaults.defaultServiceAccount,
    src.defaultServiceAccount ?? "DEFAULT_JOB_SERVICE_ACCOUNT",
  );
  checkProject(project, issues);
  checkRegionChoice(region, issues);
  checkServiceAccount(account, c, issues);
  return {
    project: project.value ?? "",
    region: region.value ?? "",
    serviceAccount: account.value ?? "",
  };
}

function checkProject(p: Choice, issues: IssueCollector): void {
  if (p.value === undefined) {
    issues.fromQueue([
      {
        path: "project",
        message:
          "no GCP project: set project in the queue config, or GOOGLE_CLOUD_PROJECT for the dispatcher (render: --project)",
      },
    ]);
  } else if (p.fromDefault && !PROJECT_ID_RE.test(p.value)) {
    issues.fromQueue([
      {
        path: "project",
        message: `the default project "${p.value}" (${p.source}) is not a GCP project id`,
      },
    ]);
  }
}

function checkRegionChoice(r: Choice, issues: IssueCollector): void {
  if (r.value === undefined) {
    issues.fromQueue([
      {
        path: "region",
        message:
          "no Vertex region: set region in the queue config, or VERTEX_REGION for the dispatcher (render: --region)",
      },
    ]);
    return;
  }
  const found = checkRegion(r.value, "region");
  const from = r.fromDefault ? ` (from ${r.source})` : "";
  issues.fromQueue(found.issues.map((i) => ({ ...i, message: `${i.message}${from}` })));
  issues.warn(...found.warnings);
}

function checkServiceAccount(a: Choice, c: Checked, issues: IssueCollector): void {
  const { spec, run } = c;
  if (
    spec.service_account !== undefined &&
    run.service_account !== undefined &&
    spec.service_account !== run.service_account
  ) {
    issues.fromResolved(
      [
        {
          path: "run.service_account",
          message: `differs from spec.service_account (${spec.service_account}): set the service account in one place`,
        },
      ],
      ["spec.service_account"],
    );
  }
  if (a.value === undefined) {
    issues.fromResolved(
      [
        {
          path: "run.service_account",
          message:
            "no service account: set run.service_account (or spec.service_account, or the queue's service_account), or DEFAULT_JOB_SERVICE_ACCOUNT for the dispatcher",
        },
      ],
      ["spec.service_account"],
    );
  } else if (a.fromDefault && !SERVICE_ACCOUNT_RE.test(a.value)) {
    issues.fromQueue([
      {
        path: "run.service_account",
        message: `the default service account "${a.value}" (${a.source}) is not a service-account email`,
      },
    ]);
  }
}
