// Step "validation": spec/run after overrides, template variables and macros are checked
// with the same schemas as the queue file. Problems already reported on the way (an
// unresolved reference, an unknown key of an override) are not reported again. Later
// steps read typed values, so resolution stops here on any problem so far.
import { type Run, RunSchema, type Spec, SpecSchema } from "../schemas/queue_config.js";
import { safeParseWithIssues } from "../schemas/zod_issues.js";
import type { IssueCollector } from "./issues.js";
import type { Sections } from "./overrides.js";

export interface Checked {
  spec: Spec;
  run: Run;
}

export function validateSections(
  sections: Sections,
  unresolved: ReadonlySet<string>,
  issues: IssueCollector,
): Checked {
  const spec = safeParseWithIssues(SpecSchema, sections.spec, ["spec"]);
  const run = safeParseWithIssues(RunSchema, sections.run, ["run"]);
  for (const checked of [spec, run]) {
    if (checked.ok) continue;
    issues.fromResolved(
      checked.issues.filter(
        (i) => !unresolved.has(i.path) && !sections.unknownInOverride.has(i.path),
      ),
    );
  }
  if (!spec.ok || !run.ok || !issues.empty) throw issues.error();
  return { spec: spec.data, run: run.data };
}
