// Resource names: projects/{project}/locations/{location}[/customJobs/{id}|/operations/{id}].
// Vertex answers with the project number in every name, whichever form the caller used; the
// emulator gives each project ID a stable made-up number (or the one configured) and accepts
// either form in requests.
import { createHash } from "node:crypto";
import { ApiError } from "./errors.js";

export interface LocationRef {
  project: string;
  location: string;
}

export interface JobRef extends LocationRef {
  id: string;
}

const SEGMENT = "([^/]+)";

function invalidName(kind: string, value: string, format: string): ApiError {
  return new ApiError(
    "INVALID_ARGUMENT",
    `Invalid ${kind} "${value}": the expected format is ${format}.`,
  );
}

export function parseParent(parent: string): LocationRef {
  const m = new RegExp(`^projects/${SEGMENT}/locations/${SEGMENT}$`).exec(parent);
  if (!m) throw invalidName("parent", parent, "projects/{project}/locations/{location}");
  return { project: m[1] as string, location: m[2] as string };
}

export function parseJobName(name: string): JobRef {
  const m = new RegExp(`^projects/${SEGMENT}/locations/${SEGMENT}/customJobs/${SEGMENT}$`).exec(
    name,
  );
  if (!m) {
    throw invalidName(
      "CustomJob name",
      name,
      "projects/{project}/locations/{location}/customJobs/{custom_job}",
    );
  }
  return { project: m[1] as string, location: m[2] as string, id: m[3] as string };
}

export function parseOperationName(name: string): JobRef {
  const m = new RegExp(`^projects/${SEGMENT}/locations/${SEGMENT}/operations/${SEGMENT}$`).exec(
    name,
  );
  if (!m) {
    throw invalidName(
      "operation name",
      name,
      "projects/{project}/locations/{location}/operations/{operation}",
    );
  }
  return { project: m[1] as string, location: m[2] as string, id: m[3] as string };
}

export class ProjectNumbers {
  private readonly fixed: Record<string, string>;
  private readonly useNumbers: boolean;
  constructor(config: Record<string, string> | false | undefined) {
    this.useNumbers = config !== false;
    this.fixed = config || {};
  }
  /** The number Vertex would show for a project ID (a number stays as it is). */
  numberOf(project: string): string {
    if (!this.useNumbers || /^\d+$/.test(project)) return project;
    const fixed = this.fixed[project];
    if (fixed) return fixed;
    const digest = createHash("sha256").update(project).digest();
    const n = digest.readBigUInt64BE(0) % 900000000000n;
    return String(100000000000n + n);
  }
}

export function jobName(projectNumber: string, location: string, id: string): string {
  return `projects/${projectNumber}/locations/${location}/customJobs/${id}`;
}

export function operationName(projectNumber: string, location: string, id: string): string {
  return `projects/${projectNumber}/locations/${location}/operations/${id}`;
}
