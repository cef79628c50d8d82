// Step "experiment context": run.experiment and run.experiment_run name Vertex ML Metadata
// contexts. A bare name becomes the context's resource name in the job's own project and
// region (an experiment run's context id is EXPERIMENT-RUN, as the Vertex SDK names it);
// a full resource name passes through.
import type { Run } from "../schemas/queue_config.js";
import type { IssueCollector } from "./issues.js";
import type { Placement } from "./placement.js";

/** Vertex ML Metadata context ids (experiments and experiment runs are contexts). */
const CONTEXT_ID_RE = /^[a-z0-9][a-z0-9-]{0,127}$/;
const CONTEXT_ID_RULE =
  "lowercase letters, digits and hyphens, starting with a letter or digit, at most 128 characters ([a-z0-9][a-z0-9-]{0,127})";
const CONTEXT_RE = /^projects\/[^/]+\/locations\/[^/]+\/metadataStores\/[^/]+\/contexts\/[^/]+$/;
const FULL_NAME = "projects/P/locations/L/metadataStores/default/contexts/NAME";

export interface ExperimentContext {
  experiment?: string;
  experimentRun?: string;
}

export function experimentContext(
  run: Run,
  placement: Placement,
  issues: IssueCollector,
): ExperimentContext {
  const contexts = `projects/${placement.project}/locations/${placement.region}/metadataStores/default/contexts`;
  const experiment = run.experiment && experimentName(run.experiment, contexts, issues);
  if (run.experiment_run === undefined) return { experiment };
  if (run.experiment === undefined) {
    issues.fromResolved(
      [{ path: "run.experiment_run", message: "an experiment run needs run.experiment too" }],
      ["run.experiment"],
    );
    return { experiment };
  }
  const experimentRun = runName(run.experiment_run, experiment ?? run.experiment, contexts, issues);
  return { experiment, experimentRun };
}

function experimentName(name: string, contexts: string, issues: IssueCollector): string {
  if (name.includes("/")) {
    if (!CONTEXT_RE.test(name)) {
      issues.fromResolved([
        { path: "run.experiment", message: `expected an experiment name, or ${FULL_NAME}` },
      ]);
    }
    return name;
  }
  if (!CONTEXT_ID_RE.test(name)) {
    issues.fromResolved([
      {
        path: "run.experiment",
        message: `expected an experiment name that Vertex accepts as a metadata context id: ${CONTEXT_ID_RULE}, got ${JSON.stringify(name)}; or a full ${FULL_NAME}`,
      },
    ]);
  }
  return `${contexts}/${name}`;
}

function runName(
  name: string,
  experiment: string,
  contexts: string,
  issues: IssueCollector,
): string {
  if (name.includes("/")) {
    if (!CONTEXT_RE.test(name)) {
      issues.fromResolved([
        { path: "run.experiment_run", message: `expected a run name, or ${FULL_NAME}` },
      ]);
    }
    return name;
  }
  const id = `${experiment.split("/").pop() ?? experiment}-${name}`;
  if (!CONTEXT_ID_RE.test(name) || !CONTEXT_ID_RE.test(id)) {
    issues.fromResolved(
      [
        {
          path: "run.experiment_run",
          message: `expected a run name that Vertex accepts in the metadata context id "EXPERIMENT-RUN": ${CONTEXT_ID_RULE} for the whole id, got ${JSON.stringify(id)}; or a full ${FULL_NAME}`,
        },
      ],
      ["run.experiment"],
    );
  }
  return `${contexts}/${id}`;
}
